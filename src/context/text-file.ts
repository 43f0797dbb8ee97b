import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { resolve } from "node:path";
import { BatonError, errnoOf } from "../errors.js";
import { usageAt } from "./parsed.js";

/** The largest context pack, workflow file or template Baton reads. @default 1 MiB */
export const MAX_TEXT_FILE_BYTES = 1024 * 1024;

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a small text file that a person wrote: a regular file (not a device or a pipe, which could
 * block or never end), at most `maxBytes`, in UTF-8, without NUL bytes. `what` names it in errors,
 * e.g. "the context pack"; errors start with `file:` or `file:line:`, `file` as given.
 */
export async function readTextFile(
  file: string,
  cwd: string,
  what: string,
  maxBytes = MAX_TEXT_FILE_BYTES,
): Promise<string> {
  const path = resolve(cwd, file);
  let bytes: Buffer;
  let handle: FileHandle | undefined;
  try {
    // Opened without blocking (a FIFO would wait for a writer), then checked as opened: what is read
    // is what was checked, even if the name is swapped meanwhile.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await handle.stat();
    if (!info.isFile()) throw usageAt(file, undefined, `${what} is not a regular file: give a file`);
    if (info.size > maxBytes) {
      throw usageAt(
        file,
        undefined,
        `${what} is ${megabytes(info.size)}, more than ${megabytes(maxBytes)}: shorten it`,
      );
    }
    bytes = await handle.readFile();
    if (bytes.length > maxBytes) {
      throw usageAt(file, undefined, `${what} grew past ${megabytes(maxBytes)} while read: shorten it`);
    }
  } catch (error) {
    if (error instanceof BatonError) throw error;
    const why =
      errnoOf(error) === "ENOENT"
        ? `does not exist (relative to ${resolve(cwd)}): check the path`
        : `cannot be read (${errnoOf(error) ?? String(error)}): check that it is a readable file`;
    throw usageAt(file, undefined, `${what} ${why}`);
  } finally {
    await handle?.close();
  }
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    const bad = bytes.toString("utf8").indexOf("\uFFFD");
    throw usageAt(file, lineAt(bytes.toString("utf8"), bad), `${what} is not valid UTF-8: save it as UTF-8`);
  }
  const nul = text.indexOf("\0");
  if (nul >= 0) throw usageAt(file, lineAt(text, nul), `${what} contains a NUL byte: remove it`);
  return text;
}

function lineAt(text: string, index: number): number | undefined {
  if (index < 0) return undefined;
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 1024 * 1024 ? 2 : 1)} MiB`;
}
