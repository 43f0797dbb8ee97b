import { readdirSync, readFileSync } from "node:fs";

// Linux /proc readers. Elsewhere they see nothing, and stopping falls back to the process group.

interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
}

function readStat(pid: number): ProcInfo | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid pgrp session ..."; comm may hold spaces and parentheses.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { pid, ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3]) };
  } catch {
    return undefined;
  }
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

function hasMarker(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(marker);
  } catch {
    return false;
  }
}

/**
 * Every live process that belongs to a worker: its session and process group (the pseudo-terminal
 * made the worker a session leader), its descendants, and anything that still carries the worker's
 * environment marker after leaving both. A process Baton did not start has none of these.
 */
export function workerProcesses(rootPid: number | undefined, marker: string): number[] {
  const infos = allPids()
    .map(readStat)
    .filter((info): info is ProcInfo => info !== undefined);
  const found = new Set<number>();
  for (const info of infos) if (info.session === rootPid || info.pgrp === rootPid) found.add(info.pid);
  let grew = true;
  while (grew) {
    grew = false;
    for (const info of infos) {
      if (!found.has(info.pid) && (found.has(info.ppid) || info.ppid === rootPid)) {
        found.add(info.pid);
        grew = true;
      }
    }
  }
  for (const info of infos) if (!found.has(info.pid) && hasMarker(info.pid, marker)) found.add(info.pid);
  found.delete(process.pid);
  return [...found];
}

/** Sends `signal` to each pid, ignoring those already gone. */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {}
  }
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
export function processesWithMarkers(markers: readonly string[]): number[] {
  if (markers.length === 0) return [];
  const wanted = new Set(markers);
  const found: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    try {
      const entries = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
      if (entries.some((entry) => wanted.has(entry))) found.push(pid);
    } catch {}
  }
  return found;
}
