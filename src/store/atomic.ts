import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fsyncSync,
  openSync,
  renameSync,
  type Stats,
  unlinkSync,
  writeSync,
} from "node:fs";
import { link, open, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { errnoOf } from "../errors.js";

/** Mode of every file Baton writes: the owner alone may read it. */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** A new file, never an existing one and never through a link planted under its name. */
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Called with the new file's own stats just before it takes its name. */
export type BeforePublish = (written: Stats) => void;

async function writeTemp(path: string, data: string | Uint8Array): Promise<{ temp: string; written: Stats }> {
  const temp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, CREATE, FILE_MODE);
  let written: Stats;
  try {
    await handle.writeFile(data);
    await handle.sync();
    written = await handle.stat();
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
  await handle.close();
  return { temp, written };
}

/**
 * Replaces `path` with `data` so that a reader sees either the old file or the new one, whole. A link
 * at `path` is replaced, never followed. Resolves with the new file's stats as written.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  beforePublish?: BeforePublish,
): Promise<Stats> {
  const { temp, written } = await writeTemp(path, data);
  try {
    beforePublish?.(written);
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
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
  beforePublish?: BeforePublish,
): Promise<Stats | undefined> {
  const { temp, written } = await writeTemp(path, data);
  try {
    beforePublish?.(written);
    await link(temp, path);
    return written;
  } catch (error) {
    if (errnoOf(error) === "EEXIST") return undefined;
    throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/** {@link writeFileAtomic}, for synchronous callers. */
export function writeFileAtomicSync(path: string, data: string): void {
  const temp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(temp, CREATE, FILE_MODE);
  try {
    const bytes = Buffer.from(data, "utf8");
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, path);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {}
    try {
      unlinkSync(temp);
    } catch {}
    throw error;
  }
}
