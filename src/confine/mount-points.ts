import { lstatSync, rmdirSync } from "node:fs";
import { join } from "node:path";

// An agent's own sandbox protects names inside each folder it may write: codex's bubblewrap mounts
// over `.git`, `.codex`, `.agents` and `.aws` there, and makes an empty folder for each one missing,
// on the host, where it stays after the agent ends. Left behind, they litter the user's tree, and an
// empty `.git` looks like a repository to tools that only check the name.
//
// Two writers may share a folder (`--write src/a.ts` and `--write src/b.ts`), and removing a folder
// that another agent's sandbox has mounted over unmounts it there: the protection it gave goes while
// that agent runs. So a folder's mount points are cleared only when the last worker of this process
// writing there has ended, and only those of the names that were not there before the first began.

/** The names an agent's sandbox mounts over in each folder it may write. */
const MOUNTED_NAMES = [".git", ".codex", ".agents", ".aws"] as const;

/** True for a name an agent's sandbox mounts over. */
export function isMountPoint(name: string): boolean {
  return (MOUNTED_NAMES as readonly string[]).includes(name);
}

interface HeldRoot {
  /** Which of MOUNTED_NAMES were there before the first worker writing here began. */
  readonly before: ReadonlySet<string>;
  holders: number;
}

const held = new Map<string, HeldRoot>();

/** One worker's hold on the folders it may write; released once, when its agent has ended. */
export interface MountPointHold {
  readonly roots: readonly string[];
  released: boolean;
}

/** Before an agent starts: it may write in `roots` (the first to hold a folder notes what is there). */
export function holdWriteRoots(roots: readonly string[]): MountPointHold {
  const unique = [...new Set(roots)];
  for (const dir of unique) {
    const root = held.get(dir);
    if (root) root.holders++;
    else
      held.set(dir, {
        before: new Set(MOUNTED_NAMES.filter((name) => present(join(dir, name)))),
        holders: 1,
      });
  }
  return { roots: unique, released: false };
}

/**
 * After the agent has ended: in each folder no other worker still holds, removes the mount points
 * left there, each an empty folder that was not there before. Never follows a link; a folder with
 * anything in it is kept, as is every file. Returns what was removed.
 */
export function releaseWriteRoots(hold: MountPointHold): string[] {
  if (hold.released) return [];
  hold.released = true;
  const removed: string[] = [];
  for (const dir of hold.roots) {
    const root = held.get(dir);
    if (!root || --root.holders > 0) continue;
    held.delete(dir);
    for (const name of MOUNTED_NAMES) {
      if (root.before.has(name)) continue;
      const path = join(dir, name);
      try {
        if (!lstatSync(path).isDirectory()) continue;
        rmdirSync(path); // only if empty
        removed.push(path);
      } catch {} // not there, not empty, or gone: left as it is
    }
  }
  return removed;
}

function present(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true; // cannot tell: taken as there, and so never removed
  }
}
