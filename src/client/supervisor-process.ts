import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { BatonError } from "../errors.js";
import { endpointFor } from "../supervisor/endpoint.js";
import { readStat } from "../supervisor/proc-stat.js";
import { isAlive } from "../supervisor/processes.js";

// The supervisor as a process, for when its socket fails us: it does not answer, or it has lost the
// socket file. Its abstract-socket lock (see `endpointFor`) says whether one runs for a store, and which
// process holds the lock names its pid, with no trust in files a worker or a `git clean` could change.

/** How long a supervisor may take to accept a connection and answer its hello. */
export const ANSWER_TIMEOUT_MS = 5_000;

/** Whether a supervisor holds the lock of the store at `home`, and its pid when it can be found. */
export type LockHolder = { readonly pid: number | undefined } | undefined;

/**
 * The supervisor that holds the store's lock, found in the kernel's socket table (`/proc/net/unix`)
 * and then by which of this user's processes has that socket open. Undefined when no process holds
 * the lock, or where there is no /proc to tell.
 */
export function lockHolder(home: string): LockHolder {
  const inodes = lockInodes(home);
  if (inodes.length === 0) return undefined;
  return { pid: processHolding(new Set(inodes.map((inode) => `socket:[${inode}]`))) };
}

/** Whether a supervisor holds the store's lock: the cheap half of {@link lockHolder}. */
export function lockHeld(home: string): boolean {
  return lockInodes(home).length > 0;
}

/** The inodes of the sockets bound to the store's lock name; none where there is no /proc. */
function lockInodes(home: string): string[] {
  const name = `@${endpointFor(home).lockName.slice(1)}`;
  let table: string;
  try {
    table = readFileSync("/proc/net/unix", "utf8");
  } catch {
    return [];
  }
  const inodes: string[] = [];
  for (const line of table.split("\n")) {
    const fields = line.trim().split(/\s+/);
    // Num RefCount Protocol Flags Type St Inode Path; Node binds the name padded with NULs, shown as @.
    if (fields.length >= 8 && fields[7]?.replace(/@+$/, "") === name && fields[6]) inodes.push(fields[6]);
  }
  return inodes;
}

function processHolding(links: ReadonlySet<string>): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      try {
        if (links.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      } catch {}
    }
  }
  return undefined;
}

/**
 * The one-line error for a supervisor that does not answer: it names the process and how to end it
 * (or let it go on, when it is stopped). `pid` is the one its hello gave, if any; otherwise the lock's
 * holder is looked up.
 */
export function notAnswering(home: string, pid?: number, what = "is not answering"): BatonError {
  const known = pid ?? lockHolder(home)?.pid;
  if (known === undefined) {
    return new BatonError(
      "timeout",
      `the supervisor of ${home} ${what}: end it (its pid is in ${home}/supervisor.json), then run the command again`,
    );
  }
  if (isStopped(known)) {
    return new BatonError(
      "timeout",
      `the supervisor (pid ${known}) of ${home} is stopped (SIGSTOP or Ctrl+Z) and ${what}: end it with ` +
        `\`baton shutdown\` (or \`kill -9 ${known}\`), or let it go on with \`kill -CONT ${known}\``,
    );
  }
  return new BatonError(
    "timeout",
    `the supervisor (pid ${known}) of ${home} ${what}: end it with \`kill ${known}\` (or \`kill -9 ${known}\`), then run the command again`,
  );
}

/** Whether `pid` is stopped (SIGSTOP, Ctrl+Z, a debugger): it answers nothing until it is let go on. */
export function isStopped(pid: number): boolean {
  const state = readStat(pid)?.state;
  return state === "T" || state === "t";
}

/** How {@link endByPid} ended a supervisor. */
export type Ending = "SIGTERM" | "SIGKILL";

/**
 * Ends the supervisor that holds the store's lock and does not answer: SIGTERM (with SIGCONT, so that a
 * stopped one runs its handler and stops its workers), then SIGKILL if it is still there after
 * `graceMs`. Only a process that holds the lock is signalled, so a reused pid is never hit. Undefined
 * if no such process was found.
 */
export async function endByPid(
  home: string,
  graceMs = 15_000,
): Promise<{ pid: number; how: Ending } | undefined> {
  const pid = lockHolder(home)?.pid;
  if (pid === undefined) return undefined;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {}
  };
  signal("SIGTERM");
  signal("SIGCONT");
  const until = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (!isAlive(pid)) return { pid, how: "SIGTERM" };
  signal("SIGKILL");
  for (let i = 0; i < 250 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return { pid, how: "SIGKILL" };
}
