import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import type { GuardedFolder } from "./layout.js";
import { isWithin } from "./paths.js";
import { isMountPoint } from "./shared-folders.js";

/** What a writer left outside its scope, and what Baton did about it. */
export interface SweepReport {
  /** Paths it made outside its scope, moved into the worker's store folder. */
  readonly moved: readonly string[];
  /** Paths it made outside its scope that could not be moved (another file system): left in place. */
  readonly left: readonly string[];
  /** Symbolic links it removed or changed, put back as they were. */
  readonly restored: readonly string[];
}

/**
 * After a writer with file scopes ends: whatever it made in a guarded folder besides its own paths is
 * moved to `quarantine` (never deleted, never followed), and links it removed or changed are put back.
 */
export function sweep(
  guarded: readonly GuardedFolder[],
  quarantine: string,
  /** Every path it may not move: its own scope, and those of writers that shared its folders. */
  keep: readonly string[] = guarded.flatMap((g) => g.allowed),
): SweepReport {
  const report = { moved: [] as string[], left: [] as string[], restored: [] as string[] };
  const moveOut = (path: string, root: string) => {
    const dest = join(quarantine, relative(root, path) || "entry");
    try {
      mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
      renameSync(path, dest);
      report.moved.push(path);
    } catch {
      report.left.push(path);
    }
  };
  for (const folder of guarded) {
    const root = dirname(folder.dir);
    const visit = (dir: string, known: ReadonlyMap<string, string | undefined> | undefined) => {
      for (const name of list(dir)) {
        const path = join(dir, name);
        if (known?.has(name)) continue;
        if (keep.some((allowed) => isWithin(path, allowed))) continue;
        // A folder on the way to a path it may make (`--write new/dir/file`): look inside it.
        if (keep.some((allowed) => isWithin(allowed, path)) && isPlainFolder(path)) {
          visit(path, undefined);
          continue;
        }
        // The empty folders an agent's own sandbox mounts over go once no writer runs here (another's
        // agent may be using one now): see shared-folders.ts.
        if (dir === folder.dir && isMountPoint(name) && isEmptyFolder(path)) continue;
        // Other empty placeholders hold nothing to keep.
        if (!removeIfEmpty(path)) moveOut(path, root);
      }
    };
    visit(folder.dir, folder.before);
    for (const [name, target] of folder.before) {
      if (target === undefined) continue;
      const path = join(folder.dir, name);
      if (linkTarget(path) === target) continue;
      if (linkTarget(path) !== undefined || existsNoFollow(path)) moveOut(path, root);
      try {
        symlinkSync(target, path);
        report.restored.push(path);
      } catch {
        report.left.push(path);
      }
    }
  }
  return report;
}

function removeIfEmpty(path: string): boolean {
  try {
    const info = lstatSync(path);
    if (info.isDirectory()) rmdirSync(path);
    else if (info.isFile() && info.size === 0) unlinkSync(path);
    else return false;
    return true;
  } catch {
    return false;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isEmptyFolder(path: string): boolean {
  return isPlainFolder(path) && list(path).length === 0;
}

function isPlainFolder(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

function existsNoFollow(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function linkTarget(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
