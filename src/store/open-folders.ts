import { closeSync, fstatSync, lstatSync } from "node:fs";

// Reaching a folder of the store without following links takes one open per folder from the store's
// root down (see no-follow.ts): three opens and three closes for a worker's folder, and a supervisor
// reaches one about a dozen times a worker. So the folders reached last stay open, and a folder kept
// open is used again only while its path still leads to it: one lstat, compared by device and inode.
// What is written through a kept folder lands in the folder that was opened without following links,
// never where a link put in its place since would lead (the lstat then shows another inode, and the
// folder is reached again the slow way, which reports the link). An inode number cannot be handed to
// a new folder while the old one is held open.

/** How many folders stay open: a worker's folder is reached while it runs, and many run at once. */
const KEPT = 128;

interface Kept {
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
  /** Uses under way: a folder pushed out of the cache is closed when the last one ends. */
  users: number;
  dropped: boolean;
}

/** A folder reached for one use; `release` ends the use. */
export interface Held {
  readonly fd: number;
  release(): void;
}

const kept = new Map<string, Kept>();

/**
 * The folder `dir`, from those kept open if its path still leads there, else opened by `open` (which
 * throws what it finds wrong) and kept. Every use ends with `release`.
 */
export function holdFolder(dir: string, open: () => number): Held {
  let entry = kept.get(dir);
  if (entry && !stillAt(dir, entry)) {
    drop(dir, entry);
    entry = undefined;
  }
  if (entry) {
    kept.delete(dir); // most recently used last
    kept.set(dir, entry);
  } else {
    const fd = open();
    let stats: { dev: number; ino: number };
    try {
      stats = fstatSync(fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    entry = { fd, dev: stats.dev, ino: stats.ino, users: 0, dropped: false };
    kept.set(dir, entry);
    for (const [oldest, old] of kept) {
      if (kept.size <= KEPT) break;
      drop(oldest, old);
    }
  }
  const held = entry;
  held.users++;
  let released = false;
  return {
    fd: held.fd,
    release() {
      if (released) return;
      released = true;
      held.users--;
      if (held.dropped && held.users === 0) closeSync(held.fd);
    },
  };
}

/** Closes every kept folder (one in use, when its use ends): for a caller done with the store, such as a test counting descriptors. */
export function releaseFolders(): void {
  for (const [dir, entry] of kept) drop(dir, entry);
}

function stillAt(dir: string, entry: Kept): boolean {
  try {
    const now = lstatSync(dir, { throwIfNoEntry: false });
    return now?.isDirectory() === true && now.ino === entry.ino && now.dev === entry.dev;
  } catch {
    return false;
  }
}

function drop(dir: string, entry: Kept): void {
  if (kept.get(dir) === entry) kept.delete(dir);
  if (entry.dropped) return;
  entry.dropped = true;
  if (entry.users === 0) closeSync(entry.fd);
}
