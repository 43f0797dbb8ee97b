import { createHash } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { basename, dirname, join } from "node:path";
import { BatonError, errnoOf } from "../errors.js";

// Unix socket paths are limited to ~107 bytes; a deep workspace gets a short path under /tmp instead,
// inside a folder that only the user can open.
const MAX_SOCKET_PATH = 100;
/** The socket's name in a store whose path is short enough. */
export const STORE_SOCKET = "supervisor.sock";

export interface Endpoint {
  /** The socket the supervisor listens on. */
  readonly socket: string;
  /** A folder to create (owner-only) before listening, when the socket is not inside the store. */
  readonly socketDir: string | undefined;
  /** A Linux abstract socket name used as the single-supervisor lock; the kernel frees it on death. */
  readonly lockName: string;
}

export function endpointFor(home: string): Endpoint {
  const hash = createHash("sha256").update(home).digest("hex").slice(0, 16);
  const lockName = `\0baton-${uid()}-${hash}`;
  const inStore = join(home, STORE_SOCKET);
  if (inStore.length <= MAX_SOCKET_PATH) return { socket: inStore, socketDir: undefined, lockName };
  const dir = join(tmpdir(), `baton-${uid()}`);
  return { socket: join(dir, `${hash}.sock`), socketDir: dir, lockName };
}

/**
 * Makes the folder the socket goes in open to this user only, creating it if needed (the store itself,
 * or the short-path folder under /tmp). Refuses a folder that is a symlink or belongs to someone else:
 * whoever owns it could put their own socket there.
 */
export function secureSocketDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (errnoOf(error) !== "EEXIST") throw socketDirError(dir, `cannot be created (${errnoOf(error)})`);
  }
  const problem = socketDirProblem(dir, 0o077);
  if (problem === "too open") chmodSync(dir, 0o700);
  else if (problem) throw socketDirError(dir, problem);
}

/**
 * Refuses to talk to a socket whose folder someone else owns or may write: a supervisor planted there
 * would receive every worker's environment, API keys included.
 */
export function checkSocketDir(socket: string): void {
  const dir = dirname(socket);
  const problem = socketDirProblem(dir, 0o022);
  if (!problem || problem === "missing") return;
  const why = problem === "too open" ? "may be written by other users" : problem;
  if (basename(socket) !== STORE_SOCKET) throw socketDirError(dir, why);
  throw new BatonError("store", `the run store ${dir} ${why}: remove it or set BATON_HOME`);
}

/** This user's id: the process's own where it has one (no read of the password file at every spawn). */
const uid = (): number => process.getuid?.() ?? userInfo().uid;

type DirProblem = "missing" | "too open" | string;

function socketDirProblem(dir: string, forbidden: number): DirProblem | undefined {
  let info: ReturnType<typeof lstatSync>;
  try {
    info = lstatSync(dir);
  } catch {
    return "missing";
  }
  if (info.isSymbolicLink() || !info.isDirectory()) return "is not a plain folder";
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) return `belongs to another user (uid ${info.uid})`;
  return (info.mode & forbidden) !== 0 ? "too open" : undefined;
}

function socketDirError(dir: string, problem: string): BatonError {
  return new BatonError(
    "supervisor",
    `the supervisor's socket folder ${dir} ${problem}: remove it, or set BATON_HOME (or TMPDIR) elsewhere`,
  );
}
