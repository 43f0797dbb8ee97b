import { readFileSync, readlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readAgentFile } from "../backend/untrusted-file.js";
import { isTrustedStore } from "../store/trusted.js";
import { STORE_SOCKET } from "./endpoint.js";
import { fdLinks } from "./proc-stat.js";

// Which sockets a worker's sandbox leaves to Baton's supervisors rather than covering them (see
// confine/sockets.ts). A supervisor serves no caller that descends from a worker, whatever it says,
// and its socket comes and goes with it: a cover of one that went away fails the worker's start,
// which then takes one of its retries. But the name and a `supervisor.json` beside it prove nothing:
// a writer could make both in its scope, and the other workers would reach a program of its own. So
// another supervisor's socket is left uncovered only when the live process its store names holds it.

/** This installation's supervisor, as `baton` starts it (see client/autostart.ts). */
const SUPERVISOR_MAIN = fileURLToPath(new URL("./main.js", import.meta.url));

/** A `supervisor.json` is a few hundred bytes; one past this is no supervisor's. */
const MAX_RECORD_BYTES = 64 * 1024;

/**
 * A check for one launch's sockets: whether the socket bound at `socket`, listed with `inodes` in the
 * kernel's table, is a supervisor's. `own`, this supervisor's socket, is. Another is only a store's
 * `supervisor.sock` in a store Baton made for this user (the list of them is read-only in every
 * sandbox), held open, every inode listed at its path, by the process its `supervisor.json` names,
 * which runs this installation's supervisor in this process's pid and mount namespaces (bubblewrap
 * gives every sandbox a mount namespace of its own). A program the user runs unconfined, or an
 * unconfined worker, could still pose as one: it could do anything the user can anyway.
 */
export function supervisorSocketCheck(
  own: string,
  env: NodeJS.ProcessEnv = process.env,
): (socket: string, inodes: readonly number[]) => boolean {
  /** Per pid: the inodes of the sockets it holds if it is a supervisor, else undefined. */
  const held = new Map<number, ReadonlySet<string> | undefined>();
  return (socket, inodes) => {
    if (socket === own) return true;
    if (basename(socket) !== STORE_SOCKET || inodes.length === 0) return false;
    const store = dirname(socket);
    const pid = namedPid(join(store, "supervisor.json"));
    if (pid === undefined || !isTrustedStore(store, env)) return false;
    if (!held.has(pid)) held.set(pid, supervisorSockets(pid));
    const sockets = held.get(pid);
    return sockets !== undefined && inodes.every((inode) => sockets.has(`socket:[${inode}]`));
  };
}

/** The pid a `supervisor.json` names: read as a worker's file (no link, FIFO or device, capped). */
function namedPid(file: string): number | undefined {
  try {
    const text = readAgentFile(file, MAX_RECORD_BYTES);
    if (text === undefined || Buffer.byteLength(text) >= MAX_RECORD_BYTES) return undefined;
    const pid = (JSON.parse(text) as { pid?: unknown } | null)?.pid;
    return typeof pid === "number" && Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The sockets `pid` holds open, if it runs this installation's supervisor beside this process. */
function supervisorSockets(pid: number): ReadonlySet<string> | undefined {
  const proc = `/proc/${pid}`;
  try {
    for (const ns of ["pid", "mnt"])
      if (readlinkSync(`${proc}/ns/${ns}`) !== readlinkSync(`/proc/self/ns/${ns}`)) return undefined;
    if (readFileSync(`${proc}/cmdline`, "utf8").split("\0")[1] !== SUPERVISOR_MAIN) return undefined;
    return new Set(fdLinks(pid).filter((link) => link.startsWith("socket:[")));
  } catch {
    return undefined; // gone, or not ours to look at
  }
}
