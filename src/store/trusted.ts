import { createHash } from "node:crypto";
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname, isAbsolute, join } from "node:path";

// The stores Baton made, or was pointed at, for this user: one small file each under a folder of the
// user's own (not in any workspace), named by the store's real path, holding the device and inode of
// the store's folder. A `.baton` that `resolveHome` finds by going up from the current folder is used
// only if it is one of them: a worker that may write a folder of the workspace could otherwise leave a
// `.baton` there (settings naming a program to run as the agent, a socket of its own) for the user's
// next command run below it. Baton's sandbox keeps this folder read-only for every worker.
// native/workspace.h reads the same entries.

/** Where the entries live: `$XDG_STATE_HOME/baton/stores`, else `~/.local/state/baton/stores`. */
export function trustedStoresDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const state = env.XDG_STATE_HOME;
  if (state && isAbsolute(state)) return join(state, "baton", "stores");
  const home = env.HOME;
  return home && isAbsolute(home) ? join(home, ".local", "state", "baton", "stores") : undefined;
}

/** The entry of the store at `home`, and what it must hold; undefined when `home` is no plain folder. */
function entryOf(home: string, env: NodeJS.ProcessEnv): { file: string; holds: string } | undefined {
  const dir = trustedStoresDir(env);
  if (!dir) return undefined;
  try {
    const info = lstatSync(home, { bigint: true }); // an inode number may be past 2^53
    if (!info.isDirectory()) return undefined;
    const name = createHash("sha256").update(realpathSync(home)).digest("hex");
    return { file: join(dir, name), holds: `${info.dev}:${info.ino}\n` };
  } catch {
    return undefined;
  }
}

/** Whether the folder at `home` is a store Baton made or was pointed at, for this user. */
export function isTrustedStore(home: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const entry = entryOf(home, env);
  if (!entry) return false;
  try {
    return readFileSync(entry.file, "utf8") === entry.holds;
  } catch {
    return false;
  }
}

/**
 * Records the store at `home` as this user's. Best effort: where the entry cannot be written (no
 * home folder, a read-only one), the store is still used when named (`--home`, `BATON_HOME`).
 */
export function trustStore(home: string, env: NodeJS.ProcessEnv = process.env): void {
  const entry = entryOf(home, env);
  if (!entry) return;
  try {
    if (readFileSync(entry.file, "utf8") === entry.holds) return;
  } catch {}
  // Replaced whole where a stale entry is (a store that was once at that path): never half-written.
  const temp = `${entry.file}.${process.pid}`;
  try {
    mkdirSync(dirname(entry.file), { recursive: true, mode: 0o700 });
    const fd = openSync(temp, "wx", 0o600);
    try {
      writeSync(fd, entry.holds);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, entry.file);
  } catch {
    rmSync(temp, { force: true });
  }
}
