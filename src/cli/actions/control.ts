import { Baton } from "../../client/baton.js";
import { BatonError } from "../../errors.js";
import { resolveHome } from "../../store/home.js";
import { type GlobalOptions, printJson, withBaton } from "../context.js";

/** `baton send ID TEXT`. */
export async function send(
  global: GlobalOptions,
  id: string,
  text: string,
  opts: { enter: boolean },
): Promise<void> {
  await withBaton(global, (baton) => baton.send(id, text, { enter: opts.enter }));
}

/** `baton interrupt ID`. */
export async function interrupt(global: GlobalOptions, id: string): Promise<void> {
  await withBaton(global, (baton) => baton.interrupt(id));
}

/** `baton stop ID... | --all`. */
export async function stop(
  global: GlobalOptions,
  ids: string[],
  opts: { all?: boolean; grace?: number; json?: boolean },
): Promise<void> {
  if (!opts.all && ids.length === 0)
    throw new BatonError("usage", "say which workers to stop: baton stop ID... or baton stop --all");
  if (opts.all && ids.length > 0) throw new BatonError("usage", "give worker ids or --all, not both");
  const stopped = await withBaton(global, (baton) =>
    baton.stop(opts.all ? "all" : ids, opts.grace === undefined ? {} : { graceSeconds: opts.grace }),
  );
  if (opts.json) printJson({ stopped });
  else process.stdout.write(stopped.length ? `stopped ${stopped.join(" ")}\n` : "nothing to stop\n");
}

/** `baton config --max-parallel N`. */
export async function configure(global: GlobalOptions, opts: { maxParallel: number }): Promise<void> {
  await withBaton(global, (baton) => baton.configure(opts.maxParallel));
}

/** `baton shutdown`. */
export async function shutdown(global: GlobalOptions): Promise<void> {
  // A supervisor that does not answer, or lost its socket, is ended by its pid instead.
  const home = global.home;
  const ended = await Baton.shutdown(home ? { home } : {});
  if (ended.how === "none") process.stdout.write("nothing to stop: no supervisor is running here\n");
  if (ended.how === "request") {
    const workers = ended.workers === 1 ? "1 worker" : `${ended.workers} workers`;
    process.stdout.write(
      ended.workers === 0
        ? `stopped the supervisor (pid ${ended.pid}); no workers were running\n`
        : `stopped ${workers} and the supervisor (pid ${ended.pid})\n`,
    );
  }
  if (ended.how === "SIGTERM" || ended.how === "SIGKILL") {
    process.stderr.write(
      ended.how === "SIGTERM"
        ? `baton: the supervisor (pid ${ended.pid}) did not answer: ended it with SIGTERM\n`
        : `baton: the supervisor (pid ${ended.pid}) did not answer: killed it (SIGKILL): the next command stops its workers and shows them as lost (\`baton resume\` continues them)\n`,
    );
  }
}

/** `baton supervisor`: runs until shut down. */
export async function supervisor(global: GlobalOptions): Promise<never> {
  const { runSupervisor } = await import("../../supervisor/daemon.js"); // the supervisor's own code
  await runSupervisor(global.home ?? resolveHome());
  return new Promise<never>(() => {}); // runs until shut down
}
