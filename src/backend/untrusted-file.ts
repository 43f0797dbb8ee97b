import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/** More than any final answer; a file past it is cut, not read whole into memory. */
const MAX_BYTES = 16 * 1024 * 1024;

/**
 * Reads a file an agent wrote, as untrusted input: never through a symbolic link (a worker could
 * point it at a secret), never a FIFO or device (it would block or never end), at most `maxBytes`
 * (16 MiB unless told): past it, the start is read. Undefined when there is no such plain file or it
 * is empty.
 */
export function readAgentFile(path: string, maxBytes = MAX_BYTES): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size === 0) return undefined;
    const buffer = Buffer.alloc(Math.min(info.size, maxBytes));
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return read > 0 ? buffer.subarray(0, read).toString("utf8") : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
