import { join } from "node:path";
import { Baton } from "../../client/baton.js";
import { BatonError } from "../../errors.js";
import { DEFAULT_MAX_PARALLEL } from "../../protocol/limits.js";
import { resolveHome } from "../../store/home.js";
import { type GlobalOptions, printJson, withBaton } from "../context.js";
import type { AgentFlags } from "./config-agents.js";

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

/**
 * `baton config [--max-parallel N] [--backend NAME] [--agent NAME --cmd LINE | --agent-cmd LINE]
 * [--remove-agent NAME]`: changes what is given; with nothing, shows it.
 */
export async function configure(
  global: GlobalOptions,
  opts: {
    maxParallel?: number;
    backend?: string;
    redis?: string;
    gitRemote?: string;
    sharedFolder?: boolean;
    json?: boolean;
  } & AgentFlags,
): Promise<void> {
  const home = global.home ?? resolveHome();
  if (opts.redis !== undefined)
    return (await import("./queue-config.js")).configureQueue(home, opts.redis, opts);
  if (opts.gitRemote !== undefined || opts.sharedFolder)
    throw new BatonError(
      "usage",
      "--git-remote and --shared-folder go with --redis URL: baton config --redis URL --git-remote REMOTE",
    );
  const { readWorkspaceConfig, writeWorkspaceConfig, DEFAULT_BACKEND } = await import(
    "../../client/workspace-config.js"
  );
  const agents = await import("./config-agents.js");
  const named = await import("../../client/named-agents.js");
  if (agents.givesAgent(opts)) await agents.configureAgents(home, opts);
  if (opts.backend !== undefined) {
    // An unknown name: one line that lists the known ones, the named agents with them.
    const known = await named.loadNamedAgents(home);
    if (!named.knownBackend(opts.backend, known)) throw named.unknownBackend(opts.backend, known);
    const { prepareHome } = await import("../../store/open.js");
    await prepareHome(home);
    await writeWorkspaceConfig(home, { backend: opts.backend });
  }
  if (opts.maxParallel !== undefined) {
    const max = opts.maxParallel;
    await withBaton(global, (baton) => baton.configure(max));
  }
  if (opts.backend !== undefined || opts.maxParallel !== undefined || agents.givesAgent(opts)) return;
  const config = await readWorkspaceConfig(home);
  const entries = await named.namedAgentEntries(home);
  const maxParallel = await runningMaxParallel(home);
  const shown = {
    backend: config.backend ?? DEFAULT_BACKEND,
    backendSource: config.backend ? "workspace" : "default",
    maxParallel: maxParallel ?? DEFAULT_MAX_PARALLEL,
    maxParallelSource: maxParallel === undefined ? "default" : "supervisor",
    agents: agents.agentsJson(entries),
  };
  if (opts.json) return printJson(shown);
  process.stdout.write(
    `backend       ${shown.backend}${config.backend ? ` (this workspace's default, in ${join(home, "config.json")})` : " (Baton's default; set one with baton config --backend NAME)"}\n` +
      `max-parallel  ${shown.maxParallel}${maxParallel === undefined ? " (the default: no supervisor is running)" : ""}\n` +
      agents.agentsText(entries),
  );
}

/** The running supervisor's concurrency cap, or undefined when none runs (a new one starts at the default). */
async function runningMaxParallel(home: string): Promise<number | undefined> {
  let baton: Baton;
  try {
    baton = await Baton.open({ home, autoStart: false });
  } catch {
    return undefined;
  }
  try {
    return (await baton.list()).maxParallel;
  } finally {
    baton.close();
  }
}

/** How many workers `baton shutdown` names by id. */
const SHUTDOWN_NAMES = 10;

/** `baton shutdown`. */
export async function shutdown(global: GlobalOptions): Promise<void> {
  // A supervisor that does not answer, or lost its socket, is ended by its pid instead.
  const home = global.home;
  const ended = await Baton.shutdown(home ? { home } : {});
  if (ended.how === "none") process.stdout.write("nothing to stop: no supervisor is running here\n");
  if (ended.how === "request") {
    // Which workers, by id (the first ten of a crowd, and how many more), and the supervisor.
    const shown = ended.ids.slice(0, SHUTDOWN_NAMES).join(", ");
    const more = ended.ids.length > SHUTDOWN_NAMES ? ` and ${ended.ids.length - SHUTDOWN_NAMES} more` : "";
    const workers = `${ended.workers === 1 ? "worker" : `${ended.workers} workers`} (${shown}${more})`;
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
  const home = global.home ?? resolveHome();
  // It runs the native client's commands too, as the supervisor's own entry point has it do.
  const { relayHandlers } = await import("../relay.js");
  await runSupervisor(home, relayHandlers(home));
  return new Promise<never>(() => {}); // runs until shut down
}
