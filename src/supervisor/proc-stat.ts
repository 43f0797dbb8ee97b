import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from "node:fs";

// Reading /proc/<pid>/stat, the one file every scan reads for every process on the machine.

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

/** One buffer for every stat read: a stat line is well under 1 KiB, and the reads are synchronous. */
const STAT_BUFFER = Buffer.alloc(4096);

/** The stat line read from `fd` at its start; throws when its process is gone (ESRCH). */
function statFrom(fd: number, pid: number): ProcInfo {
  const text = STAT_BUFFER.toString("latin1", 0, readSync(fd, STAT_BUFFER, 0, STAT_BUFFER.length, 0));
  // "pid (comm) state ppid pgrp session tty ... starttime ..."; comm may hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ", 20);
  return {
    pid,
    state: fields[0] ?? "",
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
    startTime: Number(fields[19]),
  };
}

/** `pid`'s stat line, or undefined if there is no such process (or no /proc). */
export function readStat(pid: number): ProcInfo | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(`/proc/${pid}/stat`, "r");
    return statFrom(fd, pid);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The pids in /proc now; none where there is no /proc. */
export function allPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((name) => /^[0-9]+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * At most this many stat files are kept open between scans: 1024, or a quarter of what this process
 * may open if that is less (its terminals, sockets and store files come first).
 */
const MAX_KEPT = Math.min(1024, Math.floor(openFilesLimit() / 4));

/** The soft limit on open files, from /proc/self/limits; 1024 if it cannot be read. */
function openFilesLimit(): number {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = Number(line?.slice("Max open files".length).trim().split(/\s+/)[0]);
    return Number.isFinite(soft) && soft > 0 ? soft : 1024; // "unlimited" reads as NaN
  } catch {
    return 1024;
  }
}
/** Kept files are closed once no scan has run for this long. */
const KEEP_MS = 5_000;

/**
 * Every process's stat line, for a scan. While scans follow each other (workers ending one after
 * another), each process's stat file is kept open from one scan to the next and read again in one
 * system call, instead of three (open, read, close). A kept file stays tied to the process it was
 * opened for: once that process is gone it fails (ESRCH), even if its pid was handed out again, and
 * the pid's file is opened anew. All are closed a few seconds after the last scan, or when their
 * process is no longer listed.
 */
export class StatScanner {
  private readonly kept = new Map<number, number>();
  private idle: NodeJS.Timeout | undefined;
  /** This scan ran out of descriptors: it keeps nothing more. */
  private starved = false;

  /** The stat lines of every process listed in /proc now. */
  all(): ProcInfo[] {
    const infos: ProcInfo[] = [];
    this.starved = false;
    const listed = allPids();
    const present = new Set(listed);
    for (const [pid, fd] of this.kept) if (!present.has(pid)) this.drop(pid, fd);
    for (const pid of listed) {
      const info = this.read(pid);
      if (info) infos.push(info);
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.release(), KEEP_MS);
    this.idle.unref();
    return infos;
  }

  /** Closes every kept file. */
  release(): void {
    clearTimeout(this.idle);
    for (const [pid, fd] of this.kept) this.drop(pid, fd);
  }

  private read(pid: number): ProcInfo | undefined {
    const fd = this.kept.get(pid);
    if (fd !== undefined) {
      try {
        return statFrom(fd, pid);
      } catch {
        this.drop(pid, fd); // that process is gone; the pid may be another's now
      }
    }
    if (this.starved || this.kept.size >= MAX_KEPT) return readStat(pid);
    let opened: number | undefined;
    try {
      opened = openSync(`/proc/${pid}/stat`, "r");
      const info = statFrom(opened, pid);
      this.kept.set(pid, opened);
      return info;
    } catch (error) {
      if (opened !== undefined) closeSync(opened);
      const code = (error as { code?: string }).code;
      if (code !== "EMFILE" && code !== "ENFILE") return undefined;
      // Out of descriptors: what is kept goes, and nothing more is kept in this scan.
      this.release();
      this.starved = true;
      return readStat(pid);
    }
  }

  private drop(pid: number, fd: number): void {
    this.kept.delete(pid);
    try {
      closeSync(fd);
    } catch {}
  }
}

/** What each open descriptor of `pid` links to (a path, `socket:[inode]`, ...); empty when unreadable. */
export function fdLinks(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}
