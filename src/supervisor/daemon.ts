import { chmodSync, unlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { BatonError, errnoOf } from "../errors.js";
import { helloParams } from "../protocol/messages.js";
import { appendStoreFileSync } from "../store/no-follow.js";
import { Store } from "../store/store.js";
import { checkCaller } from "./caller.js";
import { endpointFor, secureSocketDir } from "./endpoint.js";
import { type Admit, handlers, parse, serve } from "./server.js";
import { Supervisor } from "./supervisor.js";

// The supervisor daemon: one per workspace, started on demand by a client (like tmux's server).
// It tells its starter "ready" or "error: ..." on stdout, one line, and then only writes its log.

const IDLE_EXIT_MS = Number(process.env.BATON_IDLE_EXIT_MS ?? 10 * 60_000);

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

/** Runs the supervisor for the store at `home` until it is shut down or idle. */
export async function runSupervisor(home: string): Promise<void> {
  process.umask(0o077);
  const store = await Store.open(home);
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
  const log = (line: string) => {
    try {
      // Never through a link planted in the log's place: that would be a write outside the store.
      appendStoreFileSync(home, join(home, "supervisor.log"), `${new Date().toISOString()} ${line}\n`);
    } catch {}
  };
  const supervisor = await Supervisor.load(store);
  for (const problem of supervisor.problems) log(`store problem: ${problem}`);

  let idleTimer: NodeJS.Timeout | undefined;
  let closing = false;
  const shutdown = async (code = 0) => {
    if (closing) return;
    closing = true;
    log("shutting down");
    await supervisor.close();
    server.close();
    lock.close();
    try {
      unlinkSync(endpoint.socket);
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
    const { pid } = parse(helloParams, params, "hello");
    try {
      const verdict = await checkCaller({
        pid,
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
  const server = serve(handlers(supervisor, { shutdown: () => void shutdown() }), armIdle, admit);
  secureSocketDir(home); // the store, opened by a client, may have been made by other means
  if (endpoint.socketDir) secureSocketDir(endpoint.socketDir);
  try {
    unlinkSync(endpoint.socket); // stale: we hold the lock, so nobody else is listening there
  } catch {}
  await listen(server, endpoint.socket);
  chmodSync(endpoint.socket, 0o600);
  writeFileSync(
    join(home, "supervisor.json"),
    `${JSON.stringify({ pid: process.pid, socket: endpoint.socket, startedAt: new Date().toISOString() })}\n`,
    { mode: 0o600 },
  );
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
export function runSupervisorFromArgv(argv: readonly string[]): void {
  const homeIndex = argv.indexOf("--home");
  const home = homeIndex > 0 ? argv[homeIndex + 1] : undefined;
  if (!home) {
    say("error: the supervisor needs --home DIR");
    process.exit(2);
  }
  runSupervisor(home).catch((error: unknown) => {
    say(`error: ${(error as Error)?.message ?? String(error)}`);
    process.exit(1);
  });
}
