import { readSync } from "node:fs";
import type { Socket } from "node:net";
import { StringDecoder } from "node:string_decoder";

/**
 * Hands `take` what the terminal `fd` still holds now, as it reads it (up to MAX_LATE_BYTES); `take`
 * must use the bytes before it returns, as the buffer is reused.
 */
export function drainTerminal(fd: number, take: (bytes: Buffer) => void): void {
  for (let total = 0; total < MAX_LATE_BYTES; ) {
    const n = readLate(fd);
    if (n <= 0) break;
    total += n;
    take(LATE.subarray(0, n));
  }
}

/**
 * {@link drainTerminal} into a socket that reads `fd` as text: what is read comes as the socket's own
 * data, decoded by its own decoder, which may hold the first bytes of a character cut in two.
 */
export function drainIntoSocket(fd: number, socket: Socket): void {
  const own = (socket as unknown as { _readableState?: { decoder?: StringDecoder } })._readableState;
  const decoder = own?.decoder ?? new StringDecoder("utf8");
  drainTerminal(fd, (bytes) => socket.emit("data", decoder.write(bytes)));
  const rest = decoder.end();
  if (rest) socket.emit("data", rest);
}

/** Past this much, a terminal still being written to (a process left holding it) is left. */
const MAX_LATE_BYTES = 1024 * 1024;
/** One buffer for every late read: they are synchronous, so no two use it at once. */
const LATE = Buffer.allocUnsafe(64 * 1024);

/**
 * Reads what the terminal still holds into {@link LATE}: its length, or 0 when nothing more comes
 * now (EAGAIN) or the other end is closed (EIO). Every terminal ends with one of these, so the error
 * is made without a stack trace, which no one reads.
 */
function readLate(fd: number): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return readSync(fd, LATE, 0, LATE.length, null);
  } catch {
    return 0;
  } finally {
    Error.stackTraceLimit = limit;
  }
}
