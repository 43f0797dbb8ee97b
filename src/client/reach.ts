import { BatonError, errnoOf } from "../errors.js";
import { endpointFor } from "../supervisor/endpoint.js";
import { Connection, isNotListening } from "./connection.js";
import { ANSWER_TIMEOUT_MS, isStopped, lockHeld, lockHolder, notAnswering } from "./supervisor-process.js";

// A supervisor whose socket file was deleted (`rm supervisor.sock`, `git clean -fdx`, a tmp cleaner)
// listens again by itself within a second or two (daemon.ts checks the file); this is how long a
// client waits for that before it names the supervisor's pid.
const LOST_SOCKET_WAIT_MS = 6_000;
const START_EVERY_MS = 1_000;

/** No supervisor runs for the store, and none was to be started. */
export class NoSupervisor extends BatonError {
  constructor(message: string) {
    super("supervisor", message);
  }
}

export interface ReachOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Start a supervisor if none holds the store's lock. */
  readonly autoStart: boolean;
  /** By when (ms since the epoch) the supervisor must have answered the hello. */
  readonly deadline: number | undefined;
  readonly signal: AbortSignal | undefined;
}

/**
 * Connects to the supervisor of the store at `home`, starting one if none runs. Never waits on a
 * supervisor that does not answer: each failure ends in one line that names its pid and how to end it.
 */
export async function reachSupervisor(home: string, options: ReachOptions): Promise<Connection> {
  const { socket } = endpointFor(home);
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  let giveUpAt = Math.min(Date.now() + LOST_SOCKET_WAIT_MS, deadline);
  let extended = false;
  let startedAt = Number.NEGATIVE_INFINITY;
  let lostSeen = false;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      const timeoutMs = Math.max(0, Math.min(ANSWER_TIMEOUT_MS, deadline - Date.now()));
      return await Connection.open(socket, { home, timeoutMs });
    } catch (error) {
      if (error instanceof BatonError) throw error; // refused, not answering, or an unsafe socket
      // A full queue of connections: nobody accepts them.
      if (errnoOf(error) === "EAGAIN") throw notAnswering(home);
      if (!isNotListening(error)) {
        throw new BatonError("supervisor", `cannot reach the supervisor at ${socket} (${errnoOf(error)})`);
      }
    }
    // Nobody listens. Either no supervisor runs, or the one that holds the lock has lost its socket.
    const held = lockHeld(home);
    if (held && !lostSeen) {
      lostSeen = true;
      // A stopped one cannot listen again by itself: named at once, not after the wait below.
      const pid = lockHolder(home)?.pid;
      if (pid !== undefined && isStopped(pid)) throw notAnswering(home, pid, `has lost its socket ${socket}`);
    }
    let started = false;
    if (!held) {
      if (!options.autoStart) {
        throw new NoSupervisor(
          `no supervisor is running for ${home}: run a command such as \`baton ls\` to start one`,
        );
      }
      if (Date.now() - startedAt >= START_EVERY_MS) {
        startedAt = Date.now();
        // Loaded only to start a supervisor: a command that finds one running spawns no process.
        const { Store } = await import("../store/store.js");
        await Store.open(home); // a clear error now, rather than a supervisor that cannot start
        const { startSupervisor } = await import("./autostart.js");
        started = (await startSupervisor(home, options.env)).kind === "started";
        // One that took long to start (adopting its workers on a busy machine) is listening now:
        // it gets its hello, not a "does not answer" for the time its start took. Once: one that
        // dies each time it is up is not started again and again.
        if (started && !extended) {
          extended = true;
          giveUpAt = Math.max(giveUpAt, Math.min(Date.now() + LOST_SOCKET_WAIT_MS, deadline));
        }
      }
    }
    if (Date.now() >= giveUpAt) {
      if (held) throw notAnswering(home, undefined, `has lost its socket ${socket}`);
      throw new BatonError("supervisor", `the supervisor for ${home} does not answer: run the command again`);
    }
    if (!started) await new Promise((resolve) => setTimeout(resolve, Math.min(250, 50 * (attempt + 1))));
  }
}
