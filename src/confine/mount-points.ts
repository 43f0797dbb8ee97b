import { lstatSync, readdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";

// An agent's own sandbox protects names inside each folder it may write: codex's bubblewrap mounts
// over `.git`, `.codex`, `.agents` and `.aws` there, and makes an empty folder for each one missing,
// on the host, where it stays after the agent ends. Left behind, they litter the user's tree, and an
// empty `.git` looks like a repository to tools that only check the name.

/** The names at the top of a folder a writer may write, before its agent starts. */
export interface FolderNames {
  readonly dir: string;
  readonly names: ReadonlySet<string>;
}

/** What is at the top of each of `roots` now (a folder that cannot be read counts as empty). */
export function namesBefore(roots: readonly string[]): FolderNames[] {
  return roots.map((dir) => ({ dir, names: new Set(list(dir)) }));
}

/**
 * After the agent has ended: removes each hidden folder (its name starts with a dot) that it left
 * empty at the top of a folder it could write, where there was nothing of that name before. Never
 * follows a link; a folder with anything in it is kept, as is every file. Returns what was removed.
 */
export function clearMountPoints(folders: readonly FolderNames[]): string[] {
  const removed: string[] = [];
  for (const { dir, names } of folders) {
    for (const name of list(dir)) {
      if (!name.startsWith(".") || names.has(name)) continue;
      const path = join(dir, name);
      try {
        if (!lstatSync(path).isDirectory()) continue;
        rmdirSync(path); // only if empty
        removed.push(path);
      } catch {} // not empty, or gone: left as it is
    }
  }
  return removed;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
