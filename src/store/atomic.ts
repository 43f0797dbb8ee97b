import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  fsync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  type Stats,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { errnoOf } from "../errors.js";

/** Mode of every file Baton writes: the owner alone may read it. */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** A new file, never an existing one and never through a link planted under its name. */
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Called with the new file's own stats just before it takes its name. */
export type BeforePublish = (written: Stats) => void;

/**
 * How much a write survives. Every write is whole or not at all against a crash of any process: the
 * data is written to a temporary file before it takes its name (rename or link), and the kernel keeps
 * it. `durable` adds fsync of the file before, and of its folder after, so that a power loss or a
 * kernel crash cannot lose it or leave it empty either: worth two disk flushes for what must outlive
 * the machine (a worker's result), not for a file replaced again a moment later (its status).
 */
export interface WriteOptions {
  /** @default true */
  readonly durable?: boolean;
  /** Called with the new file's own stats just before it takes its name. */
  readonly beforePublish?: BeforePublish;
}

async function writeTemp(
  path: string,
  data: string | Uint8Array,
  durable: boolean,
): Promise<{ temp: string; written: Stats }> {
  const temp = tempBeside(path);
  if (!durable) return { temp, written: writeTempSync(temp, data) };
  // Only the flush waits on the disk, so only it goes through the thread pool.
  const fd = openSync(temp, CREATE, FILE_MODE);
  let written: Stats;
  try {
    writeAll(fd, data);
    await flush(fd);
    written = fstatSync(fd);
  } catch (error) {
    closeQuietly(fd);
    removeQuietly(temp);
    throw error;
  }
  closeSync(fd);
  return { temp, written };
}

const tempBeside = (path: string) => join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);

/**
 * A small file that needs no flush, written on the calling thread: four system calls of a few
 * microseconds each cost the supervisor less than four trips through libuv's thread pool and their
 * promises (a status is written several times a worker). A flush is never made this way: it waits on
 * the disk.
 */
function writeTempSync(temp: string, data: string | Uint8Array, flush = false): Stats {
  const fd = openSync(temp, CREATE, FILE_MODE);
  try {
    writeAll(fd, data);
    if (flush) fsyncSync(fd);
    const written = fstatSync(fd);
    closeSync(fd);
    return written;
  } catch (error) {
    closeQuietly(fd);
    removeQuietly(temp);
    throw error;
  }
}

function writeAll(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

const flush = promisify(fsync);

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}

/**
 * Makes the names in `dir` durable (a rename or link is an entry in its folder). `dir` may be the
 * store's `/proc/self/fd/N` spelling of a folder it opened without following links: that one link is
 * followed, to the folder already open.
 */
async function syncFolder(dir: string): Promise<void> {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await flush(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `path` with `data` so that a reader sees either the old file or the new one, whole. A link
 * at `path` is replaced, never followed. Resolves with the new file's stats as written.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteOptions | BeforePublish = {},
): Promise<Stats> {
  const { durable = true, beforePublish } =
    typeof options === "function" ? { beforePublish: options } : options;
  const { temp, written } = await writeTemp(path, data, durable);
  try {
    beforePublish?.(written);
    renameSync(temp, path);
  } catch (error) {
    removeQuietly(temp);
    throw error;
  }
  if (durable) await syncFolder(dirname(path));
  return written;
}

/**
 * Writes `path` whole, once. Returns false, and leaves the existing file alone, if `path` already
 * exists: a result once written is never overwritten.
 */
export async function writeFileOnce(path: string, data: string | Uint8Array): Promise<boolean> {
  return (await writeOnce(path, data)) !== undefined;
}

/** {@link writeFileOnce}, resolving with the new file's stats, or undefined if `path` was there already. */
export async function writeOnce(
  path: string,
  data: string | Uint8Array,
  options: WriteOptions | BeforePublish = {},
): Promise<Stats | undefined> {
  const { durable = true, beforePublish } =
    typeof options === "function" ? { beforePublish: options } : options;
  const { temp, written } = await writeTemp(path, data, durable);
  try {
    beforePublish?.(written);
    linkSync(temp, path);
  } catch (error) {
    if (errnoOf(error) === "EEXIST") return undefined;
    throw error;
  } finally {
    removeQuietly(temp);
  }
  if (durable) await syncFolder(dirname(path));
  return written;
}

/** {@link writeFileAtomic}, for synchronous callers (always flushed). */
export function writeFileAtomicSync(path: string, data: string): void {
  const temp = tempBeside(path);
  writeTempSync(temp, data, true);
  try {
    renameSync(temp, path);
  } catch (error) {
    removeQuietly(temp);
    throw error;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {}
}
