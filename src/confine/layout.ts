import { lstatSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { exists, isFolder, isWithin, writeRootOf } from "./paths.js";
import { MAX_COVERED_SOCKETS } from "./sockets.js";

/**
 * One mount of the sandbox: a host path seen at the same place, writable, read-only, or hidden; a
 * private empty folder of the sandbox's own (a tmpfs that nothing outside sees, gone with it); or a
 * socket covered by an empty file, which nothing can connect to.
 */
export interface Mount {
  readonly path: string;
  readonly kind: "rw" | "ro" | "hidden" | "private" | "masked";
}

/**
 * A folder the writer may add to only because a file it may write lies in it. What was there at the
 * start stays read-only; what it makes there besides its own paths is moved out when it ends.
 */
export interface GuardedFolder {
  readonly dir: string;
  /** The scope paths inside `dir` (at any depth below it, for paths not made yet). */
  readonly allowed: readonly string[];
  /** The names in `dir` at the start, with a symlink's target (links cannot be mounted over). */
  readonly before: ReadonlyMap<string, string | undefined>;
}

/** What the sandbox of one worker makes writable, in mount order. */
export interface Layout {
  readonly mounts: readonly Mount[];
  readonly guarded: readonly GuardedFolder[];
}

export interface LayoutInput {
  /** The worker's write scope: real absolute paths (files, folders, or paths not made yet). */
  readonly scope: readonly string[];
  /** Paths inside the scope that stay read-only (an isolated worktree's `.git`). */
  readonly readOnly: readonly string[];
  /** Folders the agent may not see at all (the run store): an empty folder in their place. */
  readonly hidden: readonly string[];
  /** Paths inside hidden folders the agent must read (its prompt, an isolated writer's worktree). */
  readonly readable: readonly string[];
  /** Places the agent needs besides its scope: its own home, its answer file. */
  readonly scratch: readonly string[];
  /**
   * Its temporary folder: an empty folder of the sandbox's own at this path, which need not exist
   * on the host. Nothing is made or removed on disk for it; it is gone when the sandbox is.
   */
  readonly private: readonly string[];
  /**
   * Sockets the user's programs listen on (real paths; see `reachableSockets`): each is covered,
   * but those in the places the agent may write (it could make and use sockets there anyway) and
   * those in folders it does not see. A folder here (one holding a socket no path can name to
   * bubblewrap) is hidden whole.
   */
  readonly sockets?: readonly string[];
}

/**
 * Everything is read-only but the scope and the scratch places. A folder in the scope is writable
 * whole. A file in the scope makes its folder writable with every entry already in it mounted
 * read-only over itself: the file can be replaced by rename (as editors and `apply_patch` do) while
 * its neighbours cannot be written, removed or renamed.
 */
export function layoutFor(input: LayoutInput): Layout {
  const folders = input.scope.filter(isFolder);
  const files = input.scope.filter(
    (path) => !isFolder(path) && !folders.some((folder) => isWithin(path, folder)),
  );
  const byDir = new Map<string, string[]>();
  for (const file of files) {
    const dir = writeRootOf(file);
    byDir.set(dir, [...(byDir.get(dir) ?? []), file]);
  }
  const mounts: (Mount & { order: number })[] = [];
  // Outer before inner; at one depth a folder is hidden first, then mounted read-only, then writable;
  // a socket is covered last (after a writable folder's entries are mounted read-only over themselves).
  const rank = { hidden: 0, ro: 1, rw: 2, private: 2, masked: 3 } as const;
  const add = (path: string, kind: Mount["kind"]) =>
    mounts.push({ path, kind, order: depth(path) * 4 + rank[kind] });
  for (const folder of outermost(folders)) add(folder, "rw");
  const guarded: GuardedFolder[] = [];
  // Scope paths are real paths; a hidden folder reached through a link is compared by its real one.
  const hidden = new Set(input.hidden.map(realOrSame));
  for (const [dir, allowed] of byDir) {
    add(dir, "rw");
    const before = new Map<string, string | undefined>();
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const link = symlinkTarget(path);
      before.set(name, link);
      // A hidden folder here (the store) stays hidden: mounted read-only over itself, it would show.
      if (link === undefined && !allowed.includes(path) && !hidden.has(path)) add(path, "ro");
    }
    guarded.push({ dir, allowed, before });
  }
  for (const path of input.hidden) if (isFolder(path)) add(path, "hidden");
  for (const path of input.readable) if (exists(path)) add(path, "ro");
  for (const path of input.readOnly) {
    if (exists(path) && mounts.some((m) => m.kind === "rw" && isWithin(path, m.path))) add(path, "ro");
  }
  for (const path of input.scratch) add(path, "rw");
  for (const path of input.private) add(path, "private");
  // A folder writable only for a file in it does not count: its sockets are covered like any other.
  const sockets = input.sockets ?? [];
  const places = sockets.length === 0 ? [] : mounts.filter((m) => m.kind !== "ro" && !byDir.has(m.path));
  const own = [...SANDBOX_OWN, ...places.map((m) => realOrSame(m.path))];
  const covered = sockets.filter((socket) => !own.some((place) => isWithin(socket, place)));
  // All of them or no sandbox: a writer that binds many in its scope must not push others out.
  if (covered.length > MAX_COVERED_SOCKETS)
    throw new Error(
      `cannot confine the worker: ${covered.length} sockets to cover in its sandbox, more than ${MAX_COVERED_SOCKETS} (programs or workers listen on that many): stop some, or run it --unconfined`,
    );
  for (const socket of covered) {
    add(socket, isFolder(socket) ? "hidden" : "masked"); // a folder: one whose socket cannot be named
  }
  mounts.sort((a, b) => a.order - b.order);
  return { mounts: mounts.map(({ path, kind }) => ({ path, kind })), guarded };
}

/** Folders every sandbox has of its own, whatever the host holds there. */
const SANDBOX_OWN = ["/dev", "/proc"];

function realOrSame(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function depth(path: string): number {
  return path.split("/").filter(Boolean).length;
}

function outermost(paths: readonly string[]): string[] {
  return paths.filter((path) => !paths.some((other) => other !== path && isWithin(path, other)));
}

function symlinkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}
