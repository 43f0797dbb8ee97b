import { readdirSync, readFileSync } from "node:fs";

// Linux /proc readers. Elsewhere they see nothing, and stopping falls back to the worker's own pid.

/**
 * A process, told apart from any later one that gets the same pid: its start time (clock ticks after
 * boot, /proc/<pid>/stat field 22) never repeats for one pid. `undefined` where /proc is not there.
 */
export interface ProcessId {
  readonly pid: number;
  readonly startTime: number | undefined;
}

export interface ProcInfo {
  readonly pid: number;
  /** R, S, D, Z (a zombie: dead, waiting to be reaped), ... */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
  readonly startTime: number;
}

export function readStat(pid: number): ProcInfo | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid pgrp session tty ... starttime ..."; comm may hold spaces and parentheses.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return {
      pid,
      state: fields[0] ?? "",
      ppid: Number(fields[1]),
      pgrp: Number(fields[2]),
      session: Number(fields[3]),
      startTime: Number(fields[19]),
    };
  } catch {
    return undefined;
  }
}

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

function allPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((name) => /^[0-9]+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** The `NAME=value` entries a process started with; empty when unreadable. */
export function environOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
  } catch {
    return [];
  }
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
  const infos = allPids()
    .map(readStat)
    .filter((info): info is ProcInfo => info !== undefined);
  const now = root && infos.find((info) => info.pid === root.pid);
  const reused = now !== undefined && root?.startTime !== undefined && now.startTime !== root.startTime;
  const rootPid = root && !reused ? root.pid : undefined;
  const found = new Set<number>();
  if (rootPid !== undefined) {
    for (const info of infos) {
      if (info.pid === rootPid || info.session === rootPid || info.pgrp === rootPid) found.add(info.pid);
    }
    let grew = true;
    while (grew) {
      grew = false;
      for (const info of infos) {
        if (!found.has(info.pid) && found.has(info.ppid)) {
          found.add(info.pid);
          grew = true;
        }
      }
    }
  }
  for (const info of infos) {
    if (!found.has(info.pid) && environOf(info.pid).includes(marker)) found.add(info.pid);
  }
  const ids: ProcessId[] = infos
    .filter((info) => found.has(info.pid) && info.pid !== process.pid)
    .map((info) => ({ pid: info.pid, startTime: info.startTime }));
  // Without /proc the scan sees nothing; the agent's own pid is all there is to stop.
  if (!HAS_PROC && root && isAlive(root.pid)) ids.push(root);
  return ids;
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
