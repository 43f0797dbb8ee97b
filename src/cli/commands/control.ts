import type { Command } from "commander";
import { Baton } from "../../client/baton.js";
import { BatonError } from "../../errors.js";
import { MAX_GRACE_SECONDS, MAX_PARALLEL_LIMIT } from "../../protocol/messages.js";
import { resolveHome } from "../../store/home.js";
import { type GlobalOptions, nonNegativeNumber, positiveInteger, printJson, withBaton } from "../context.js";

export function registerControl(program: Command, global: () => GlobalOptions): void {
  program
    .command("send")
    .description("type text into a worker's terminal, then Enter")
    .argument("<id>", "worker id")
    .argument("<text>", "what to type")
    .option("--no-enter", "do not press Enter after the text")
    .action(async (id: string, text: string, opts) => {
      await withBaton(global(), (baton) => baton.send(id, text, { enter: opts.enter }));
    });

  program
    .command("interrupt")
    .description("send Ctrl+C to a worker's terminal")
    .argument("<id>", "worker id")
    .action(async (id: string) => {
      await withBaton(global(), (baton) => baton.interrupt(id));
    });

  program
    .command("stop")
    .description(
      "stop workers: Ctrl+C, then SIGTERM, then SIGKILL to all their processes after the grace period",
    )
    .argument("[ids...]", "worker ids")
    .option("--all", "stop every unfinished worker")
    .option(
      "--grace <seconds>",
      "how long each step waits (default 3)",
      nonNegativeNumber("--grace", MAX_GRACE_SECONDS),
    )
    .option("--json", "print JSON")
    .action(async (ids: string[], opts) => {
      if (!opts.all && ids.length === 0)
        throw new BatonError("usage", "say which workers to stop: baton stop ID... or baton stop --all");
      if (opts.all && ids.length > 0) throw new BatonError("usage", "give worker ids or --all, not both");
      const stopped = await withBaton(global(), (baton) =>
        baton.stop(opts.all ? "all" : ids, opts.grace === undefined ? {} : { graceSeconds: opts.grace }),
      );
      if (opts.json) printJson({ stopped });
      else process.stdout.write(stopped.length ? `stopped ${stopped.join(" ")}\n` : "nothing to stop\n");
    });

  program
    .command("config")
    .description("change the workspace's settings")
    .requiredOption(
      "--max-parallel <n>",
      "workers that may run at once; the rest queue",
      positiveInteger("--max-parallel", MAX_PARALLEL_LIMIT),
    )
    .action(async (opts) => {
      await withBaton(global(), (baton) => baton.configure(opts.maxParallel));
    });

  program
    .command("shutdown")
    .description("stop every worker and the workspace's supervisor")
    .action(async () => {
      // A supervisor that does not answer, or lost its socket, is ended by its pid instead.
      const home = global().home;
      const ended = await Baton.shutdown(home ? { home } : {});
      if (ended.how === "SIGTERM" || ended.how === "SIGKILL") {
        process.stderr.write(
          ended.how === "SIGTERM"
            ? `baton: the supervisor (pid ${ended.pid}) did not answer: ended it with SIGTERM\n`
            : `baton: the supervisor (pid ${ended.pid}) did not answer: killed it (SIGKILL): the next command stops its workers and shows them as lost (\`baton resume\` continues them)\n`,
        );
      }
    });

  program
    .command("supervisor")
    .description("run the workspace's supervisor in the foreground (normally it starts by itself)")
    .action(async () => {
      const { runSupervisor } = await import("../../supervisor/daemon.js"); // the supervisor's own code
      await runSupervisor(global().home ?? resolveHome());
      await new Promise(() => {}); // runs until shut down
    });
}
