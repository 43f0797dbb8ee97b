import { renameSync } from "node:fs";
import type { open } from "node:fs/promises";
import { BatonError, errnoOf } from "../errors.js";
import {
  APPEND,
  inStoreSync,
  lstatInStore,
  openStoreFile,
  openStoreFileSync,
  StoreDamageError,
} from "./no-follow.js";
import { storeError } from "./store-error.js";

// A worker's logs (transcript.log, events.jsonl): append-only, written synchronously by the attempt
// that runs, read back by offset. `note` records damage found on the way in the store's ledger.

/**
 * Opens one of the worker's logs at `path` for appending; the caller writes it synchronously and
 * closes it. A link (or anything but a file) planted in its place is moved aside and noted as damage,
 * so that the worker still runs and its output lands in the store, not where the link pointed.
 */
export function openLog(home: string, path: string, note: (what: string) => void): number {
  try {
    return openStoreFileSync(home, path, APPEND);
  } catch (error) {
    if (!(error instanceof StoreDamageError)) throw storeError(home, error, path);
    note(`${error.what} (kept aside as .damaged)`);
    try {
      inStoreSync(home, path, (at) => renameSync(at, `${at}.damaged-${Date.now()}`));
      return openStoreFileSync(home, path, APPEND);
    } catch {
      throw error;
    }
  }
}

/**
 * The transcript's size in bytes; 0 if there is none. Something else in its place (a link, a
 * folder) is noted as damage; its size is given all the same, so that a read of it says what is wrong.
 */
export function transcriptSize(home: string, path: string, note: (what: string) => void): number {
  try {
    const found = lstatInStore(home, path);
    if (found && !found.isFile()) note(found.isSymbolicLink() ? "is a symbolic link" : "is not a file");
    return found?.size ?? 0;
  } catch {
    return 0;
  }
}

/** Reads `length` bytes of the transcript at `path` from `offset`. */
export async function readTranscript(
  home: string,
  path: string,
  offset: number,
  length: number,
): Promise<Buffer> {
  if (length <= 0) return Buffer.alloc(0);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await openStoreFile(home, path);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return Buffer.alloc(0);
    if (error instanceof BatonError) throw error;
    throw storeError(home, error, path);
  } finally {
    await handle?.close();
  }
}
