import { chmodSync, lstatSync, unlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { workerNice } from "../confine/launcher.js";
import { BatonError, errnoOf } from "../errors.js";
import { helloParams } from "../protocol/messages.js";
import { writeFileAtomicSync } from "../store/atomic.js";
import { inStoreSync } from "../store/no-follow.js";
import { Store } from "../store/store.js";
import { appendSupervisorLog } from "../store/supervisor-log.js";
import { checkCaller } from "./caller.js";
import { endpointFor, secureSocketDir } from "./endpoint.js";
import { type Admit, type Handler, handlers, parse, serve } from "./server.js";
import { Supervisor } from "./supervisor.js";
import { keepPrivate } from "./user-umask.js";

// The supervisor daemon: one per workspace, started on demand by a client (like tmux's server).
// It tells its starter "ready" or "error: ..." on stdout, one line, and then only writes its log.

const IDLE_EXIT_MS = Number(process.env.BATON_IDLE_EXIT_MS ?? 10 * 60_000);
/** How often the supervisor checks that its socket and its store are still there. */
const CHECK_EVERY_MS = 1_000;
/** A store removed under the supervisor: its workers get this grace, for their records are gone. */
const STORE_GONE_GRACE_SECONDS = 1;
/** However a shutdown goes (a stuck disk), the process ends after this. */
const SHUTDOWN_CAP_MS = 60_000;

/** Which file a path names: a file deleted and made again is another file. */
type Identity = { readonly dev: number; readonly ino: number } | undefined;

function identityOf(path: string): Identity {
  try {
    const { dev, ino } = lstatSync(path);
    return { dev, ino };
  } catch {
    return undefined;
  }
}

const sameFile = (a: Identity, b: Identity) => a !== undefined && b?.dev === a.dev && b.ino === a.ino;

function say(line: string): void {
  try {
    writeFileSync(1, `${line}\n`);
  } catch {}
}

function listen(server: net.Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/**
 * Runs the supervisor of the store at `home` until it is shut down or loses its store. `more` adds
 * request handlers of other layers (the CLI's relay), given by the entry point that starts it.
 */
export async function runSupervisor(home: string, more: Record<string, Handler> = {}): Promise<void> {
  keepPrivate();
  workerNice(); // refused at the start (in one line), not at the first worker
  const store = await Store.open(home);
  const storeIdentity = identityOf(home);
  const endpoint = endpointFor(home);
  const lock = net.createServer();
  try {
    await listen(lock, endpoint.lockName);
  } catch (error) {
    if (errnoOf(error) === "EADDRINUSE") {
      throw new BatonError(
        "supervisor",
        `a supervisor is already running for ${home}: use it, or stop it with \`baton shutdown\``,
      );
    }
    throw error;
  }
  const log = (line: string) => appendSupervisorLog(home, line);
  // A workspace on a queue (`baton config --redis`): its workers run on hosts (src/queue/).
  const { queueRunner } = await import("../queue/setup.js");
  const supervisor = await Supervisor.load(store, { runner: await queueRunner(home, log) });
  for (const problem of supervisor.problems) log(`store problem: ${problem}`);

  let idleTimer: NodeJS.Timeout | undefined;
  let closing = false;
  const shutdown = async (code = 0, graceSeconds?: number) => {
    if (closing) return;
    closing = true;
    setTimeout(() => {
      supervisor.events.close(); // what the event log has pending is written even then
      process.exit(code);
    }, SHUTDOWN_CAP_MS).unref();
    log("shutting down");
    clearInterval(watch);
    await supervisor.close(graceSeconds);
    current.server.close();
    lock.close();
    try {
      // Only our own: after the store was replaced, the file there may be another supervisor's.
      if (sameFile(current.identity, identityOf(endpoint.socket))) unlinkSync(endpoint.socket);
    } catch {}
    process.exit(code);
  };
  const armIdle = (connections: number) => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = undefined;
    if (connections === 0 && IDLE_EXIT_MS > 0) {
      idleTimer = setTimeout(() => {
        if (!supervisor.busy) void shutdown();
        else armIdle(0);
      }, IDLE_EXIT_MS);
    }
  };
  let unverifiedSaid = false;
  const admit: Admit = async (params, socket) => {
    const { pid, proof } = parse(helloParams, params, "hello");
    try {
      const verdict = await checkCaller({
        pid,
        ...(proof ? { proof } : {}),
        socket,
        path: endpoint.socket,
        workers: supervisor.workerPids(),
      });
      if (verdict === "unverified" && !unverifiedSaid) {
        unverifiedSaid = true;
        log("cannot tell which process a client is (no /proc or no `ss`): checking the pid it names only");
      }
    } catch (error) {
      log(`refused a connection: ${(error as Error).message}`);
      throw error;
    }
  };
  const table = { ...more, ...handlers(supervisor, { shutdown: () => void shutdown() }) };
  // Connections per server: after listening again, the old server keeps serving its connections.
  const connections = new Map<net.Server, number>();
  const listenOnSocket = async (): Promise<{ server: net.Server; identity: Identity }> => {
    const server: net.Server = serve(
      table,
      (count) => {
        connections.set(server, count);
        armIdle([...connections.values()].reduce((a, b) => a + b, 0));
      },
      admit,
    );
    secureSocketDir(home); // the store, opened by a client, may have been made by other means
    if (endpoint.socketDir) secureSocketDir(endpoint.socketDir);
    try {
      unlinkSync(endpoint.socket); // stale: we hold the lock, so nobody else is listening there
    } catch {}
    await listen(server, endpoint.socket);
    chmodSync(endpoint.socket, 0o600);
    // Through the store's own folder, never a link planted in its place.
    const info = `${JSON.stringify({ pid: process.pid, socket: endpoint.socket, startedAt: new Date().toISOString() })}\n`;
    inStoreSync(home, join(home, "supervisor.json"), (at) => writeFileAtomicSync(at, info));
    return { server, identity: identityOf(endpoint.socket) };
  };
  let current = await listenOnSocket();
  // The socket file can go while we run (`rm`, `git clean -fdx`, a tmp cleaner): without it no client
  // reaches us, and no other supervisor can start while we hold the lock. So a cheap lstat each second:
  // a socket gone or replaced is listened on again; a store gone or replaced (its folder is another
  // one now) ends this supervisor, its workers stopped, so that the next command starts a new one.
  // Polling, not fs.watch: it sees a removed folder, a moved one and a tmpfs alike, and costs nothing.
  let relistening = false;
  const watch = setInterval(() => {
    if (closing || relistening) return;
    if (!sameFile(storeIdentity, identityOf(home))) {
      log(`the run store ${home} was removed or replaced: stopping the workers and ending`);
      void shutdown(0, STORE_GONE_GRACE_SECONDS);
      return;
    }
    if (sameFile(current.identity, identityOf(endpoint.socket))) return;
    relistening = true;
    log(`the socket ${endpoint.socket} was removed or replaced: listening on it again`);
    current.server.close(); // its open connections are served to their end
    listenOnSocket()
      .then((next) => {
        current = next;
      })
      .catch((error: Error) =>
        log(`cannot listen on ${endpoint.socket} again (tried each second): ${error.message}`),
      )
      .finally(() => {
        relistening = false;
      });
  }, CHECK_EVERY_MS);
  watch.unref();
  process.on("SIGTERM", () => void shutdown(0));
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGHUP", () => {});
  process.on("uncaughtException", (error) => log(`uncaught: ${error.stack ?? error.message}`));
  process.on("unhandledRejection", (error) => log(`unhandled: ${String(error)}`));
  armIdle(0);
  log(`ready, pid ${process.pid}`);
  say(`ready ${process.pid}`);
}

/** Entry point for a daemon started by a client: `node daemon.js --home DIR`. */
export function runSupervisorFromArgv(
  argv: readonly string[],
  more: (home: string) => Record<string, Handler>,
): void {
  const homeIndex = argv.indexOf("--home");
  const home = homeIndex > 0 ? argv[homeIndex + 1] : undefined;
  if (!home) {
    say("error: the supervisor needs --home DIR");
    process.exit(2);
  }
  runSupervisor(home, more(home)).catch((error: unknown) => {
    say(`error: ${(error as Error)?.message ?? String(error)}`);
    process.exit(1);
  });
}
