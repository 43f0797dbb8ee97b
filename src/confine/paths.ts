import { lstatSync, statSync } from "node:fs";
import { dirname, sep } from "node:path";

/** True when `inner` is `outer` or lies inside it. Both absolute. */
export function isWithin(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

// A missing path is common here (scope paths not made yet): looked at without making an error for it.

export function isFolder(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false;
  }
}

export function exists(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

/**
 * The folder a sandbox must let the agent write for one scope path: the path itself when it is a
 * folder; for a file (or a path not made yet) the nearest existing folder above it, since editors and
 * patch tools write a temporary file beside the target and rename it over.
 */
export function writeRootOf(path: string): string {
  if (isFolder(path)) return path;
  let dir = dirname(path);
  while (!isFolder(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The folders an agent's own sandbox must let it write for these scope paths, without nesting. */
export function writeRoots(paths: readonly string[]): string[] {
  const roots = [...new Set(paths.map(writeRootOf))].sort((a, b) => a.length - b.length);
  return roots.filter((root, i) => !roots.slice(0, i).some((outer) => isWithin(root, outer)));
}
