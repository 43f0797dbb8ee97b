import { closeSync, constants, fstatSync, openSync, type Stats, writeSync } from "node:fs";

// A status is replaced several times a worker. Replacing it by a new file (write, then rename) costs
// ext4 a new inode each time, and deleting the old one makes the next allocation slower still: the
// allocator skips inodes deleted moments ago, scanning further each time (`recently_deleted` was the
// largest single cost in a profile of the supervisor under 32 workers). So a file the supervisor made
// and still vouches for is rewritten where it is, in one write from its start, when that write is
// whole or not at all: it fits in the first page (a process killed mid-write leaves the old bytes or
// the new ones, never a mix), and it is padded with spaces to the old length, which JSON ignores, so
// that nothing of the old content is left after the new. Anything else (a bigger file, a file that is
// not the one the supervisor wrote, a link, a second name) is left to an atomic replace.

/** One page: a single write of at most this, from offset 0, is whole or not at all. */
const PAGE = 4096;

/** Opening an existing file to rewrite it: never through a link, never a FIFO. */
const REWRITE = constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Rewrites the file at `at` with `data` in place, if `ours(stats)` says it is the file the caller
 * made and last saw, it has no other name, and the new content fits: resolves with its stats as
 * written, or undefined (having changed nothing) when the caller should replace it whole instead.
 */
export function rewriteInPlace(at: string, data: string, ours: (stats: Stats) => boolean): Stats | undefined {
  const bytes = Buffer.from(data, "utf8");
  if (bytes.length > PAGE) return undefined;
  let fd: number;
  try {
    fd = openSync(at, REWRITE);
  } catch {
    return undefined;
  }
  try {
    const found = fstatSync(fd);
    if (!found.isFile() || found.nlink !== 1 || found.size > PAGE || !ours(found)) return undefined;
    const padded = bytes.length >= found.size ? bytes : Buffer.alloc(found.size, 0x20);
    if (padded !== bytes) bytes.copy(padded);
    if (writeSync(fd, padded, 0, padded.length, 0) !== padded.length) return undefined;
    return fstatSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
