import { lstatSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, sep } from "node:path";
import { BatonError } from "../errors.js";
import type { Scope } from "../worker/types.js";

// Many readers, one writer: two writers whose paths overlap never run at the same time, however the
// paths are spelled. Scope paths are stored as real paths (symlinks and `..` resolved on the disk, not
// on the string); two real paths that still differ can name one folder through a bind mount, so the
// lock also compares folders by device and inode.

/** More links than this on one path is a loop, as the kernel counts (ELOOP). */
const MAX_LINKS = 40;

/**
 * The real absolute path of `path` (relative to `base`): every symbolic link and `..` resolved as the
 * kernel would, one component at a time, so `link/..` is the link target's parent. A path that does
 * not exist yet is resolved through its nearest existing parent; a dangling link, through its target.
 */
export function realScopePath(path: string, base: string = process.cwd()): string {
  const absolute = isAbsolute(path) ? path : `${base}${sep}${path}`;
  try {
    return realpathSync.native(absolute);
  } catch {
    const links = { left: MAX_LINKS, path };
    return walk(sep, absolute.split(sep), links);
  }
}

/** Resolves `parts` from the real folder `from`, following links by hand while they exist. */
function walk(from: string, parts: readonly string[], links: { left: number; path: string }): string {
  let current = from;
  for (const part of parts) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      current = dirname(current);
      continue;
    }
    const next = join(current, part);
    let link: string | undefined;
    try {
      const info = lstatSync(next);
      if (info.isSymbolicLink()) link = readlinkSync(next);
    } catch {} // not there (yet): taken as it is spelled
    if (link === undefined) {
      current = next;
      continue;
    }
    if (--links.left < 0) {
      throw new BatonError("usage", `${links.path}: too many levels of symbolic links: name the real path`);
    }
    current = walk(isAbsolute(link) ? sep : current, link.split(sep), links);
  }
  return current;
}

/** True when one path is the other or contains it, by name or through a bind mount. Paths are absolute. */
export function pathsOverlap(a: string, b: string): boolean {
  if (within(a, b) || within(b, a)) return true;
  const [placeA, placeB] = [placeOf(a), placeOf(b)];
  return contains(placeA, placeB) || contains(placeB, placeA);
}

function within(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

/** A path as the disk sees it: the identity of each existing folder from `/` down, then the names left. */
interface Place {
  readonly parts: readonly string[];
  /** `dev:ino` of `/`, then of each existing prefix of `parts`, in order. */
  readonly ids: readonly string[];
}

/** Places found in this turn of the event loop: the queue asks for the same paths many times at once. */
const places = new Map<string, Place>();

function placeOf(path: string): Place {
  const known = places.get(path);
  if (known) return known;
  if (places.size === 0) setImmediate(() => places.clear());
  const parts = path.split(sep).filter(Boolean);
  const ids: string[] = [];
  for (let i = 0; i <= parts.length; i++) {
    try {
      const info = statSync(sep + parts.slice(0, i).join(sep));
      ids.push(`${info.dev}:${info.ino}`);
    } catch {
      break;
    }
  }
  const place = { parts, ids };
  places.set(path, place);
  return place;
}

/** Whether `outer` is `inner` or contains it: its deepest existing folder is on `inner`'s way, and the rest matches. */
function contains(outer: Place, inner: Place): boolean {
  const deepest = outer.ids.length - 1;
  const id = outer.ids[deepest];
  if (deepest < 0 || id === undefined) return false;
  const rest = outer.parts.slice(deepest);
  for (let j = 0; j < inner.ids.length; j++) {
    if (inner.ids[j] !== id) continue;
    const after = inner.parts.slice(j);
    if (rest.every((name, k) => after[k] === name)) return true;
  }
  return false;
}

/**
 * The first path of `scope` that overlaps one of `held`, and the one it overlaps. Scopes of isolated
 * writers (own worktree) are passed as undefined: they never conflict.
 */
export function conflict(
  scope: Scope | undefined,
  held: Scope | undefined,
): { path: string; heldPath: string } | undefined {
  if (scope?.kind !== "write" || held?.kind !== "write") return undefined;
  for (const path of scope.paths) {
    for (const heldPath of held.paths) if (pathsOverlap(path, heldPath)) return { path, heldPath };
  }
  return undefined;
}
