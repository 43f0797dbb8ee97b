import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  type Stats,
  writeSync,
} from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, sep } from "node:path";
import { BatonError, errnoOf } from "../errors.js";
import { FILE_MODE } from "./atomic.js";
import { type Held, holdFolder } from "./open-folders.js";

// Nothing a worker plants in the run store is followed. A worker that can write the store (an
// unconfined one, or a backend's bug) could put a symbolic link where the supervisor writes, and the
// unconfined supervisor would then write wherever it points. So every file of the store is opened with
// O_NOFOLLOW, and every folder between the store's root and the file is opened the same way, one at a
// time, each inside the one before (through /proc/self/fd, Linux's openat), so that swapping a folder
// for a link between two checks leads nowhere either.

const { O_RDONLY, O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

/** Reading an existing store file: never through a link, never blocking on a planted FIFO. */
export const READ = O_RDONLY | O_NOFOLLOW | O_NONBLOCK;
/** Appending to a store log, creating it if needed. */
export const APPEND = O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK;
const FOLDER = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

/** Linux names an open folder's entries as /proc/self/fd/N/name; elsewhere each folder is checked by path. */
const BY_FD = existsSync("/proc/self/fd");

/** A file or folder of the run store that is not what Baton made: a link, or not a regular file. */
export class StoreDamageError extends BatonError {
  constructor(
    /** The damaged file, as a path inside the store (e.g. `workers/w3/transcript.log`). */
    readonly file: string,
    readonly what: string,
    message: string,
    cause?: unknown,
  ) {
    super("store", message, { cause });
  }
}

/** The one-line damage error for `path` in the store at `root`. */
export function damageError(root: string, path: string, what: string, cause?: unknown): StoreDamageError {
  const shown = relative(dirname(root), path) || path;
  const advice = what.includes("link")
    ? "Baton will not follow it: remove it (a worker may have planted it)"
    : "Baton will not use it: remove it";
  return new StoreDamageError(relative(root, path), what, `store damage: ${shown} ${what}; ${advice}`, cause);
}

/** What is wrong with an entry that failed an open without following links, if a link or not a file. */
function damageOf(path: string, error: unknown, folder: boolean): string | undefined {
  const code = errnoOf(error);
  if (code === "ELOOP") return "is a symbolic link";
  if (code === "ENXIO") return "is not a file";
  if (code === "ENOTDIR" && folder) {
    try {
      return lstatSync(path).isSymbolicLink() ? "is a symbolic link" : "is not a folder";
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Opens `spelled` (the path `path` of the store at `root`); a planted link or FIFO is store damage. */
function openChecked(root: string, path: string, spelled: string, flags: number, mode?: number): number {
  const folder = (flags & O_DIRECTORY) !== 0;
  let fd: number;
  try {
    fd = openSync(spelled, flags, mode);
  } catch (error) {
    const what = damageOf(path, error, folder);
    if (what) throw damageError(root, path, what, error);
    throw withPath(error, path);
  }
  if (!folder && !fstatSync(fd).isFile()) {
    closeSync(fd);
    throw damageError(root, path, "is not a file");
  }
  return fd;
}

/** A system error names the file as the store knows it, not as /proc/self/fd spells it. */
function withPath(error: unknown, path: string): unknown {
  if (error && typeof error === "object" && "path" in error) (error as { path: string }).path = path;
  return error;
}

/** The folder `dir` of the store at `root`, reached without following links, kept open between uses. */
function reach(root: string, dir: string): Held {
  if (BY_FD) return holdFolder(dir, () => openFolder(root, dir));
  const fd = openFolder(root, dir);
  return { fd, release: () => closeSync(fd) };
}

/** Opens the folder `dir` of the store at `root`, and every folder above it up to `root`, never through a link. */
function openFolder(root: string, dir: string): number {
  const rel = relative(root, dir);
  if (rel.startsWith("..") || isAbsolute(rel)) throw new Error(`${dir} is not inside the run store ${root}`);
  let fd = openChecked(root, root, root, FOLDER);
  let path = root;
  try {
    for (const part of rel.split(sep).filter(Boolean)) {
      path = join(path, part);
      const next = openChecked(root, path, BY_FD ? `/proc/self/fd/${fd}/${part}` : path, FOLDER);
      closeSync(fd);
      fd = next;
    }
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

const spelling = (fd: number, path: string) => (BY_FD ? `/proc/self/fd/${fd}/${basename(path)}` : path);

/**
 * Runs `work` with a spelling of `path` (a file of the store at `root`) that reaches the file through
 * folders opened without following links. `work` must itself not follow a link at the last step
 * (O_NOFOLLOW, O_EXCL, rename, link and lstat do not).
 */
export async function inStore<T>(root: string, path: string, work: (at: string) => Promise<T>): Promise<T> {
  const folder = reach(root, dirname(path));
  try {
    return await work(spelling(folder.fd, path));
  } catch (error) {
    throw error instanceof BatonError ? error : withPath(error, path);
  } finally {
    folder.release();
  }
}

/**
 * {@link inStore} for several files of the folder `dir`: the folders are opened once, and `work` gets
 * a function that spells each file's path through them.
 */
export async function inStoreFolder<T>(
  root: string,
  dir: string,
  work: (spell: (path: string) => string) => Promise<T>,
): Promise<T> {
  const folder = reach(root, dir);
  const through = BY_FD ? `/proc/self/fd/${folder.fd}/` : undefined;
  try {
    return await work((path) => spelling(folder.fd, path));
  } catch (error) {
    const spelled = (error as { path?: unknown } | null)?.path;
    if (through && typeof spelled === "string" && spelled.startsWith(through))
      withPath(error, join(dir, spelled.slice(through.length)));
    throw error;
  } finally {
    folder.release();
  }
}

/** {@link inStore}, for synchronous work. */
export function inStoreSync<T>(root: string, path: string, work: (at: string) => T): T {
  const folder = reach(root, dirname(path));
  try {
    return work(spelling(folder.fd, path));
  } catch (error) {
    throw error instanceof BatonError ? error : withPath(error, path);
  } finally {
    folder.release();
  }
}

/** Opens a file of the store; the caller closes the descriptor. */
export function openStoreFileSync(root: string, path: string, flags: number, mode = FILE_MODE): number {
  return inStoreSync(root, path, (at) => openChecked(root, path, at, flags | O_NOFOLLOW, mode));
}

/** Opens a file of the store for reading, on a promise chain; the caller closes the handle. */
export function openStoreFile(root: string, path: string): Promise<FileHandle> {
  return inStore(root, path, async (at) => {
    let handle: FileHandle;
    try {
      handle = await open(at, READ);
    } catch (error) {
      const what = damageOf(path, error, false);
      throw what ? damageError(root, path, what, error) : error;
    }
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw damageError(root, path, "is not a file");
    }
    return handle;
  });
}

/** A file of the store read whole, with what it was when read; undefined if there is none. */
export async function readStoreFile(
  root: string,
  path: string,
): Promise<{ readonly text: string; readonly stats: Stats } | undefined> {
  let handle: FileHandle;
  try {
    handle = await openStoreFile(root, path);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw error;
  }
  try {
    return { text: await handle.readFile("utf8"), stats: await handle.stat() };
  } catch (error) {
    throw withPath(error, path);
  } finally {
    await handle.close();
  }
}

/** A file of the store read whole, synchronously; undefined if there is none. */
export function readStoreFileSync(root: string, path: string): string | undefined {
  try {
    return inStoreSync(root, path, (at) => {
      const fd = openChecked(root, path, at, READ);
      try {
        return readFileSync(fd, "utf8");
      } finally {
        closeSync(fd);
      }
    });
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw error;
  }
}

/** Writes `data` into a new file of the store (it must not exist), with `mode`. */
export function writeNewStoreFileSync(root: string, path: string, data: Uint8Array, mode: number): void {
  const fd = openStoreFileSync(root, path, O_WRONLY | O_CREAT | O_EXCL, mode);
  try {
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
}

/** Appends `data` to a file of the store, creating it owner-only if needed. */
export function appendStoreFileSync(root: string, path: string, data: string | Uint8Array): void {
  const fd = openStoreFileSync(root, path, APPEND);
  try {
    writeAll(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
  } finally {
    closeSync(fd);
  }
}

/** {@link appendStoreFileSync}, for callers on a promise chain. */
export async function appendStoreFile(root: string, path: string, data: string | Uint8Array): Promise<void> {
  appendStoreFileSync(root, path, data);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** The entry at `path` in the store at `root`, without following a link; undefined if there is none. */
export function lstatInStore(root: string, path: string): Stats | undefined {
  try {
    return inStoreSync(root, path, (at) => lstatSync(at));
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw error;
  }
}
