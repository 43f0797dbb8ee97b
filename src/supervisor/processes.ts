import { closeSync, openSync, readSync } from "node:fs";
import { allPids, type ProcessId, type ProcInfo, readStat, StatScanner } from "./proc-stat.js";

export { type ProcessId, type ProcInfo, readStat } from "./proc-stat.js";

// Linux /proc readers. Elsewhere they see nothing, and stopping falls back to the worker's own pid.

const HAS_PROC = (() => {
  try {
    return readStat(process.pid) !== undefined;
  } catch {
    return false;
  }
})();

/** `pid` as it is now, to be recognised later; undefined if no such process is alive. */
export function identify(pid: number): ProcessId | undefined {
  if (!HAS_PROC) return isAlive(pid) ? { pid, startTime: undefined } : undefined;
  const info = readStat(pid);
  return info ? { pid, startTime: info.startTime } : undefined;
}

/** True while `id` names the very process it was taken from (not a later one with its pid). */
export function isSameProcess(id: ProcessId): boolean {
  if (id.startTime === undefined) return isAlive(id.pid);
  return readStat(id.pid)?.startTime === id.startTime;
}

/** The `NAME=value` entries a process started with; empty when unreadable. */
export function environOf(pid: number): string[] {
  return readEnviron(pid)?.toString("latin1").split("\0") ?? [];
}

/** What a scan looks for: the processes of the worker whose agent is `root`, carrying `marker`. */
export interface WorkerQuery {
  readonly root: ProcessId | undefined;
  readonly marker: string;
}

/**
 * Every live process that belongs to a worker whose agent is `root`: the agent itself, its session and
 * process group (the pseudo-terminal made it a session leader), its descendants, and anything that
 * still carries the worker's environment marker after leaving all of these.
 *
 * A process Baton did not start has none of these. If the agent has ended and its pid was taken by
 * another process, that process and its session, group and children are not the worker's: only the
 * marker counts then. (While any process is left in the worker's session or group, the kernel does not
 * hand its pid out again.)
 */
export function workerProcesses(root: ProcessId | undefined, marker: string): ProcessId[] {
  return scan([{ root, marker }])[0] ?? [];
}

/**
 * One pass over /proc for several workers at once: each query's processes, in order.
 *
 * Every process of a worker was started after its agent (the agent is the first of them, and the
 * marker is in no environment before it), so only processes started since the earliest agent's start
 * are looked at beyond their stat line: their environment is read once, for all the markers together.
 * That is what keeps a scan cheap on a busy machine: the environment reads were most of its cost.
 */
export function scan(queries: readonly WorkerQuery[]): ProcessId[][] {
  const infos = stats.all();
  const byPid = new Map<number, ProcInfo>(infos.map((info) => [info.pid, info]));
  const found = queries.map(() => new Set<number>());
  queries.forEach(({ root }, i) => {
    const now = root && byPid.get(root.pid);
    const reused = now !== undefined && root?.startTime !== undefined && now.startTime !== root.startTime;
    if (!root || reused) return;
    const mine = found[i]!;
    for (const info of infos) {
      if (info.pid === root.pid || info.session === root.pid || info.pgrp === root.pid) mine.add(info.pid);
    }
    let grew = true;
    while (grew) {
      grew = false;
      for (const info of infos) {
        if (!mine.has(info.pid) && mine.has(info.ppid)) {
          mine.add(info.pid);
          grew = true;
        }
      }
    }
  });
  // An agent with no start time (no /proc) gives no bound: every environment is read then.
  const since = Math.min(...queries.map((q) => q.root?.startTime ?? Number.NEGATIVE_INFINITY));
  const markers = new Map(queries.map((q, i) => [q.marker, i]));
  const othersSessions = sessionsOfOtherAgents(queries, byPid);
  for (const info of infos) {
    if (info.startTime < since || info.pid === process.pid) continue;
    if (othersSessions.has(info.session)) continue; // another running worker's, by where it was born
    if (found.every((mine) => mine.has(info.pid))) continue; // every worker asked for has it already
    const carried = markersIn(info.pid, markers);
    for (const i of carried) found[i]!.add(info.pid);
  }
  return queries.map(({ root }, i) => {
    // A zombie has ended already: nothing to signal, and it is reaped by its parent.
    const ids: ProcessId[] = infos
      .filter((info) => found[i]!.has(info.pid) && info.pid !== process.pid && info.state !== "Z")
      .map((info) => ({ pid: info.pid, startTime: info.startTime }));
    // Without /proc the scan sees nothing; the agent's own pid is all there is to stop.
    if (!HAS_PROC && root && isAlive(root.pid)) ids.push(root);
    return ids;
  });
}

/** Every scan's stat reads, kept open while scans follow each other. */
const stats = new StatScanner();

/** The agents of the workers running now, each the leader of its own session. */
const runningAgents = new Map<number, ProcessId>();

/**
 * {@link identify} for a worker's agent that has just started: it is recorded as running until its
 * leftovers are asked for ({@link leftoversOf}). A scan for another worker's processes need not read
 * the environment of any process in its session: a process joins a session only by being born into it
 * (or makes a new one of its own), so none of those can be another worker's.
 */
export function agentStarted(pid: number): ProcessId | undefined {
  const agent = identify(pid);
  if (agent) runningAgents.set(agent.pid, agent);
  return agent;
}

/** The sessions of running agents other than the ones asked about, each checked to be that agent's still. */
function sessionsOfOtherAgents(
  queries: readonly WorkerQuery[],
  byPid: ReadonlyMap<number, ProcInfo>,
): Set<number> {
  const asked = new Set(queries.map((q) => q.root?.pid));
  const sessions = new Set<number>();
  for (const agent of runningAgents.values()) {
    const now = byPid.get(agent.pid);
    if (asked.has(agent.pid) || agent.startTime === undefined || now?.startTime !== agent.startTime) continue;
    if (now.session === agent.pid) sessions.add(agent.pid);
  }
  return sessions;
}

/** Which of `markers` (each a whole `NAME=value` entry) process `pid` started with: their indexes. */
function markersIn(pid: number, markers: ReadonlyMap<string, number>): number[] {
  const environ = readEnviron(pid);
  if (!environ) return []; // gone, or not ours (then it cannot be a worker's either)
  if (markers.size === 1) {
    // The usual case: one marker, looked for in the bytes without decoding the environment.
    const [[marker, index]] = [...markers] as [[string, number]];
    const entry = Buffer.from(`${marker}\0`, "latin1");
    for (let at = environ.indexOf(entry); at >= 0; at = environ.indexOf(entry, at + 1)) {
      if (at === 0 || environ[at - 1] === 0) return [index];
    }
    return [];
  }
  const hits: number[] = [];
  for (const entry of environ.toString("latin1").split("\0")) {
    const index = markers.get(entry);
    if (index !== undefined) hits.push(index);
  }
  return hits;
}

/** One buffer for every environment read of a scan, grown when one does not fit. */
let environBuffer = Buffer.alloc(64 * 1024);

/**
 * The environment process `pid` started with, as bytes valid until the next read; undefined when it
 * cannot be read. Open, read and close only (a /proc file has no size to stat), into a shared buffer.
 */
function readEnviron(pid: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(`/proc/${pid}/environ`, "r");
    let length = 0;
    for (;;) {
      if (length === environBuffer.length) {
        const bigger = Buffer.alloc(length * 2);
        environBuffer.copy(bigger);
        environBuffer = bigger;
      }
      const n = readSync(fd, environBuffer, length, environBuffer.length - length, null);
      if (n === 0) return environBuffer.subarray(0, length);
      length += n;
    }
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The agent `root` has ended: its session is no longer another running worker's (see {@link agentStarted}). */
export function agentEnded(root: ProcessId | undefined): void {
  if (root && runningAgents.get(root.pid) === root) runningAgents.delete(root.pid);
}

let pending: { query: WorkerQuery; resolve: (ids: ProcessId[]) => void }[] = [];

/**
 * {@link workerProcesses}, for a worker whose agent has just ended. The scan runs once the current
 * callbacks are done, and serves every worker that ended meanwhile: a burst of workers ending
 * together costs one pass over /proc, not one each. Each query's scan starts after it was asked,
 * so it sees everything its worker left.
 */
export function leftoversOf(root: ProcessId | undefined, marker: string): Promise<ProcessId[]> {
  agentEnded(root);
  return new Promise((resolve) => {
    if (pending.length === 0) {
      setImmediate(() => {
        const batch = pending;
        pending = [];
        let results: ProcessId[][];
        try {
          results = scan(batch.map((p) => p.query));
        } catch {
          results = [];
        }
        batch.forEach((p, i) => {
          p.resolve(results[i] ?? []);
        });
      });
    }
    pending.push({ query: { root, marker }, resolve });
  });
}

/**
 * Sends `signal` to each process that is still the one it was found as, ignoring those already gone.
 * A pid that now belongs to a process started since is left alone.
 */
export function signalAll(processes: readonly ProcessId[], signal: NodeJS.Signals): void {
  for (const id of processes) {
    if (id.pid <= 1 || id.pid === process.pid || !isSameProcess(id)) continue;
    try {
      process.kill(id.pid, signal);
    } catch {}
  }
}

/** True while `id` is the process it was taken from and has not died (a zombie has). */
function stillRunning(id: ProcessId): boolean {
  if (id.startTime === undefined) return isAlive(id.pid);
  const info = readStat(id.pid);
  return info?.startTime === id.startTime && info.state !== "Z";
}

/**
 * SIGTERM to each process, so that it can clean up (a lock file, a child of its own); SIGKILL to
 * those still running after `graceMs`. Resolves once all are gone or killed.
 */
export async function terminate(processes: readonly ProcessId[], graceMs: number): Promise<void> {
  signalAll(processes, "SIGTERM");
  const deadline = Date.now() + graceMs;
  let left = processes.filter(stillRunning);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    left = left.filter(stillRunning);
  }
  signalAll(left, "SIGKILL");
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** Live processes carrying any of `markers` in their environment: one pass over /proc for them all. */
export function processesWithMarkers(markers: readonly string[]): ProcessId[] {
  if (markers.length === 0) return [];
  const wanted = new Set(markers);
  const found: ProcessId[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    if (!environOf(pid).some((entry) => wanted.has(entry))) continue;
    const id = identify(pid);
    if (id) found.push(id);
  }
  return found;
}
