import { execFile } from "node:child_process";
import { accessSync, constants, readlinkSync, realpathSync } from "node:fs";
import type net from "node:net";
import { dirname } from "node:path";
import { BatonError } from "../errors.js";
import { proofFile } from "../protocol/caller-proof.js";
import { fdLinks } from "./proc-stat.js";
import { environOf, readStat } from "./processes.js";
import { WORKER_ENV } from "./worker-env.js";

// Who is on the other end of a connection. Node has no SO_PEERCRED, so a client names its pid in its
// hello, and the supervisor checks the claim: that process must be the one on the other end of this
// very connection, and it must not be, or descend from, a worker. The environment marker alone would
// not do: a worker can unset it.
//
// A client proves the first with the secret of its caller proof (protocol/caller-proof.ts): the claimed
// process must hold open the file named after the secret's hash. That costs the supervisor one look at
// the process's open files. A hello without a proof is checked by the kernel's socket table instead,
// read with iproute2's `ss` (which pairs the two ends of a connection): a process per connection.

const SS_CANDIDATES = ["/usr/bin/ss", "/bin/ss", "/usr/sbin/ss", "/sbin/ss"];
const SS_TIMEOUT_MS = 5_000;
const MAX_ANCESTORS = 128;

/** What the supervisor knows when a connection says hello. */
export interface CallerCheck {
  /** The pid the client claims. */
  readonly pid: number;
  /** The secret of the client's caller proof, if it sent one. */
  readonly proof?: string;
  /** The accepted socket. */
  readonly socket: net.Socket;
  /** The socket path the supervisor listens on. */
  readonly path: string;
  /** Live workers' agent pids (each a session and group leader), with their ids. */
  readonly workers: ReadonlyMap<number, string>;
}

/** How sure the check could be that the claimed pid is the caller. */
export type CallerVerdict = "verified" | "unverified";

/**
 * Resolves if the caller may use the supervisor; rejects with a "nested" BatonError if it is a worker,
 * or a "usage" one if its claim is false. Resolves "unverified" where the socket's peer could not be
 * looked up (no /proc, no `ss`): then only the claimed process's own lineage is checked.
 */
export async function checkCaller(check: CallerCheck): Promise<CallerVerdict> {
  const self = readStat(process.pid);
  if (!self) return "unverified"; // no /proc: nothing to check against
  let verdict: CallerVerdict = "unverified";
  if (check.proof !== undefined) {
    if (!holdsProof(check.pid, check.path, check.proof)) {
      throw new BatonError(
        "usage",
        `process ${check.pid} does not hold this connection: a client names its own pid in its hello`,
      );
    }
    verdict = "verified";
  }
  const inode = verdict === "verified" ? undefined : socketInode(process.pid, fdOf(check.socket));
  const peers = inode === undefined ? undefined : await peerTable(check.path);
  if (inode !== undefined && peers !== undefined) {
    const peer = peers.get(inode);
    if (peer === undefined || !holdsSocket(check.pid, peer)) {
      throw new BatonError(
        "usage",
        `process ${check.pid} does not hold this connection: a client names its own pid in its hello`,
      );
    }
    verdict = "verified";
  }
  const worker = workerOf(check.pid, check.workers);
  if (worker) {
    throw new BatonError(
      "nested",
      `workers cannot use the supervisor (process ${check.pid} ${worker}): report back to the orchestrator instead`,
    );
  }
  return verdict;
}

/**
 * How `pid` is tied to a worker, in words, or undefined if it is not. It, or a process it descends
 * from, is a worker's agent, is in a worker's session or process group, holds a worker's terminal,
 * or started with Baton's worker variables (a process may unset them, but /proc keeps what it started
 * with, and what its parent started with).
 */
export function workerOf(pid: number, workers: ReadonlyMap<number, string>): string | undefined {
  const markers = [`${WORKER_ENV.id}=`, `${WORKER_ENV.marker}=`];
  let terminals: Map<string, string> | undefined;
  const now = Date.now();
  let current = pid;
  for (let depth = 0; depth < MAX_ANCESTORS && current > 1; depth++) {
    const info = readStat(current);
    if (!info) break;
    const key = `${current}:${info.startTime}`;
    if (current !== pid && (cleared.get(key) ?? 0) > now) {
      current = info.ppid;
      continue;
    }
    terminals ??= terminalsOf(workers);
    const who = current === pid ? "is" : `descends from process ${current}, which is`;
    const worker =
      workers.get(current) ??
      workers.get(info.session) ??
      workers.get(info.pgrp) ??
      (terminals.size === 0 ? [] : fdLinks(current))
        .map((link) => terminals?.get(link))
        .find((id) => id !== undefined);
    if (worker) return `${who} part of worker ${worker}`;
    if (environOf(current).some((entry) => markers.some((marker) => entry.startsWith(marker)))) {
      return `${who} a Baton worker's process`;
    }
    if (current !== pid) clear(key, now);
    current = info.ppid;
  }
  return undefined;
}

/**
 * Ancestors found to be no worker's part, by pid and start time, until when. A lead runs many
 * commands from one shell: its shell and their parents are looked at once a while, not at each
 * command (each look lists their open files). What a process was when it was looked at stays true:
 * it cannot join a later worker's session or group, and what it started with does not change.
 */
const cleared = new Map<string, number>();
const CLEARED_MS = 10_000;
const MAX_CLEARED = 256;

function clear(key: string, now: number): void {
  if (cleared.size >= MAX_CLEARED) {
    for (const [k, until] of cleared) if (until <= now) cleared.delete(k);
    if (cleared.size >= MAX_CLEARED) cleared.clear();
  }
  cleared.set(key, now + CLEARED_MS);
}

/** Each live worker's pseudo-terminal (its agent's stdout when first seen), by worker and agent pid. */
const knownTerminals = new Map<string, string>();

/** Each worker's pseudo-terminal (the agent's stdout), with the worker's id. */
function terminalsOf(workers: ReadonlyMap<number, string>): Map<string, string> {
  const live = new Set([...workers].map(([pid, id]) => `${id} ${pid}`));
  for (const key of knownTerminals.keys()) if (!live.has(key)) knownTerminals.delete(key);
  const terminals = new Map<string, string>();
  for (const [pid, id] of workers) {
    const key = `${id} ${pid}`;
    const link = knownTerminals.get(key) ?? ptyOf(pid);
    if (!link) continue;
    knownTerminals.set(key, link);
    terminals.set(link, id);
  }
  return terminals;
}

/**
 * The pseudo-terminal on the agent's stdout. Right after the fork, before the child has put its
 * terminal there, fd 1 is still the supervisor's: then nothing is known yet (and nothing kept).
 */
function ptyOf(pid: number): string | undefined {
  try {
    const link = readlinkSync(`/proc/${pid}/fd/1`);
    return link.startsWith("/dev/pts/") && !ownTerminals().has(link) ? link : undefined;
  } catch {
    return undefined;
  }
}

let own: Set<string> | undefined;
/** The supervisor's own stdin, stdout and stderr, as links. */
function ownTerminals(): Set<string> {
  own ??= new Set(
    [0, 1, 2].flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/self/fd/${fd}`)];
      } catch {
        return [];
      }
    }),
  );
  return own;
}

function fdOf(socket: net.Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}

function socketInode(pid: number, fd: number | undefined): number | undefined {
  if (fd === undefined) return undefined;
  try {
    const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** True if `pid` holds open the proof file of `secret`, made in the folder of the socket at `path`. */
function holdsProof(pid: number, path: string, secret: string): boolean {
  let folder: string;
  try {
    folder = realpathSync(dirname(path)); // as the kernel spells the file: links resolved
  } catch {
    return false;
  }
  const file = proofFile(folder, secret);
  // The client removed the file once open: the kernel shows it as deleted.
  return fdLinks(pid).some((link) => link === `${file} (deleted)` || link === file);
}

function holdsSocket(pid: number, inode: number): boolean {
  return fdLinks(pid).includes(`socket:[${inode}]`);
}

let ssPath: string | null | undefined;
let queued: Promise<Map<number, number> | undefined> | undefined;
let running: Promise<unknown> = Promise.resolve();

/**
 * Unix stream sockets by inode, each with its peer's inode; undefined if `ss` is not there. Calls that
 * come while a lookup runs share the next one, which starts after the current one (whose snapshot may
 * predate their connection), so a burst of connections costs two runs of `ss`, not one per connection.
 */
function peerTable(path: string): Promise<Map<number, number> | undefined> {
  if (queued) return queued;
  const next = running.then(() => {
    if (queued === next) queued = undefined;
    return runSs(path);
  });
  queued = next;
  running = next.catch(() => {});
  return next;
}

async function runSs(path: string): Promise<Map<number, number> | undefined> {
  if (ssPath === undefined) ssPath = SS_CANDIDATES.find(isExecutable) ?? null;
  if (ssPath === null) return undefined;
  // A path that needs quoting would trip ss's filter parser; then read every connected unix socket.
  const filter = /^[\w./-]+$/.test(path) ? ["src", path] : [];
  const output = await new Promise<string | undefined>((resolve) => {
    execFile(
      ssPath!,
      ["-xnH", "state", "established", ...filter],
      { timeout: SS_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => resolve(error ? undefined : stdout),
    );
  });
  if (output === undefined) return undefined;
  const table = new Map<number, number>();
  // "... <local path> <local inode> * <peer inode>": a client that never bound has no address ("*").
  for (const line of output.split("\n")) {
    const match = / (\d+) \* (\d+)\s*$/.exec(line);
    if (match) table.set(Number(match[1]), Number(match[2]));
  }
  return table;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
