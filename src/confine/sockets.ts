import { isUtf8 } from "node:buffer";
import { accessSync, constants, lstatSync, readFileSync, realpathSync, type Stats } from "node:fs";
import { isAbsolute, normalize } from "node:path";

/**
 * At most this many sockets are covered in one sandbox (each is one mount, and three arguments): past
 * it, the sandbox is refused (layout.ts), never made with some left uncovered.
 */
export const MAX_COVERED_SOCKETS = 1024;

/**
 * The Unix sockets that programs on this machine listen on, by path, that this user could connect
 * to: a container engine's, an SSH or GPG agent's, a desktop bus's, the user's systemd (which starts
 * commands for its clients, outside any sandbox). A confined worker that reached one could have that
 * program act for it, outside its scope; each sandbox puts an empty file in their place.
 *
 * The kernel lists every bound socket of this network namespace in `/proc/net/unix`, which is read
 * again for each worker (a socket bound since is seen by the next one). A path there is the one the
 * program bound; it is kept, as the real path it names, only while a socket is still there, this
 * user may connect to it (write permission on it and every folder above), and no other user could
 * put anything else in its place, or in the place of a folder above it: bubblewrap follows links
 * when it mounts, and a link swapped in there would have it cover a file of the victim's choosing.
 * Sockets in the abstract namespace (a name, no file) cannot be hidden this way: only a network
 * namespace of its own would, and the agent needs the network for its model.
 */
export function reachableSockets(
  table: string | Buffer = readTable(),
  /** Sockets left uncovered (a supervisor's), by the path they were bound at and its inodes. */
  exempt: (socket: string, inodes: readonly number[]) => boolean = () => false,
): string[] {
  const found = new Set<string>();
  const { named, unnamable } = boundSockets(table);
  for (const [path, inodes] of named) {
    if (exempt(path, inodes)) continue;
    const real = reachableSocket(path);
    if (real) found.add(real);
  }
  for (const path of unnamable) {
    const folder = folderToHide(path);
    if (folder) found.add(folder);
  }
  return [...found];
}

/**
 * The sockets of the kernel's table that one can connect or send to, by the absolute path they were
 * bound at (name services left out), each with the inodes listed at that path (what `/proc/<pid>/fd`
 * links name): one, unless the first socket's file was removed and another bound in its place. With
 * them, each path run on over the rows after it (see boundSockets), which names a socket only where
 * one was bound at a path with a line end.
 */
export function listeningSockets(table: string | Buffer = readTable()): Map<string, number[]> {
  return boundSockets(table).named;
}

/**
 * The kernel writes each path as it was bound, byte for byte: one holding a line end runs on over the
 * next lines (and can make them look like rows of their own), one that is not UTF-8 cannot be decoded.
 * A worker could bind either in its scope to keep other workers' sandboxes from covering it. So a
 * row's path is taken with every run of the lines after it that fits in a socket's path (108 bytes:
 * one or two rows at most), each a candidate that only counts if a socket is there; and a path that is
 * not UTF-8, which no argument to bubblewrap can name, is kept apart as bytes (see folderToHide).
 */
function boundSockets(table: string | Buffer): { named: Map<string, number[]>; unnamable: Buffer[] } {
  const named = new Map<string, number[]>();
  const unnamable: Buffer[] = [];
  const lines = splitOn(typeof table === "string" ? Buffer.from(table) : table, 0x0a).slice(1);
  lines.forEach((line, i) => {
    const head = ROW.exec(line.toString("latin1")); // the columns before the path are ASCII
    if (!head || head[0].length >= line.length) return; // not a row, or an unnamed socket
    const [start, flags, type, inode] = head;
    // A server's accepted connections carry its path too: only what one can connect or send to counts.
    if ((Number.parseInt(flags ?? "0", 16) & ACCEPTS) === 0 && type !== DATAGRAM) return;
    let path = line.subarray(start.length);
    for (let next = i + 1; ; next++) {
      const text = isUtf8(path) ? path.toString("utf8") : undefined;
      if (text === undefined) unnamable.push(path);
      else if (isAbsolute(text) && normalize(text) === text && !isNameService(text)) {
        const inodes = named.get(text);
        if (inodes) inodes.push(Number(inode));
        else named.set(text, [Number(inode)]);
      }
      const more = lines[next];
      if (more === undefined || path.length + 1 + more.length > MAX_PATH_BYTES) break;
      path = Buffer.concat([path, NEWLINE, more]);
    }
  });
  return { named, unnamable };
}

/** `sun_path`: the longest path a socket can be bound at. */
const MAX_PATH_BYTES = 108;
const NEWLINE = Buffer.from("\n");

const SLASH = Buffer.from("/");
const EMPTY = Buffer.alloc(0);

/** `bytes` cut at every `byte`; the part after the last one only if it is not empty. */
function splitOn(bytes: Buffer, byte: number): Buffer[] {
  const parts: Buffer[] = [];
  let at = 0;
  for (let end = bytes.indexOf(byte); end >= 0; end = bytes.indexOf(byte, at)) {
    parts.push(bytes.subarray(at, end));
    at = end + 1;
  }
  if (at < bytes.length) parts.push(bytes.subarray(at));
  return parts;
}

/**
 * Flags, type and inode of one row: `Num: RefCount Protocol Flags Type St Inode Path`, the inode
 * padded to five places; the match ends at the space before the path (which may hold spaces, and is
 * absent for an unnamed socket).
 */
const ROW = /^\s*\S+:\s+\S+\s+\S+\s+(\S+)\s+(\S+)\s+\S+\s+(\d+) /;
/**
 * Sockets that only answer who a user or group is (nscd, SSSD, systemd's user database): covered,
 * they would leave a user of LDAP or of systemd-homed without a name inside the sandbox (git could
 * not tell who commits, ssh would refuse to start). They act for no one.
 */
export const isNameService = (path: string) => NAME_SERVICES.test(path);
const NAME_SERVICES =
  /^(?:\/var)?\/run\/nscd\/socket$|^\/var\/lib\/sss\/pipes\/nss$|^\/run\/systemd\/userdb\//;
/** `__SO_ACCEPTCON` in the flags column: a listening socket. */
const ACCEPTS = 0x10000;
/** `SOCK_DGRAM` in the type column: bound, it takes messages from anyone who may write it. */
const DATAGRAM = "0002";

function readTable(): Buffer {
  try {
    return readFileSync("/proc/net/unix");
  } catch {
    return Buffer.alloc(0); // no /proc here: nothing known to hide
  }
}

function reachableSocket(path: string): string | undefined {
  try {
    if (!lstatSync(path, { throwIfNoEntry: false })?.isSocket()) return undefined;
    accessSync(path, constants.W_OK);
    const real = realpathSync(path);
    return lstatSync(real).isSocket() && noOtherUserCanReplace(Buffer.from(real)) ? real : undefined;
  } catch {
    return undefined;
  }
}

/**
 * For a socket whose path is not UTF-8 (see boundSockets): the deepest folder above its real path
 * whose path is, to be hidden whole, as long as the socket is there, reachable, and no other user
 * could replace it or anything on the way to it (as for any socket: another user's socket in `/tmp`
 * is not covered, and does not hide `/tmp`). All else that folder holds is hidden with it, in every
 * sandbox that sees it: the price of a name no argument can carry, which Baton's own workers and the
 * user's programs do not bind.
 */
function folderToHide(bound: Buffer): string | undefined {
  if (bound[0] !== 0x2f) return undefined; // an abstract name (`@...`): no file
  try {
    if (!lstatSync(bound, { throwIfNoEntry: false })?.isSocket()) return undefined;
    accessSync(bound, constants.W_OK);
    const path = realpathSync.native(bound, { encoding: "buffer" }); // (the JavaScript one decodes it)
    if (!lstatSync(path).isSocket() || !noOtherUserCanReplace(path)) return undefined;
    for (let end = path.lastIndexOf(0x2f); end > 0; end = path.lastIndexOf(0x2f, end - 1)) {
      const folder = path.subarray(0, end);
      if (isUtf8(folder)) return folder.toString("utf8");
    }
  } catch {}
  return undefined;
}

/**
 * Whether every folder from `/` down to `path` (a real path) is this user's or root's, and none lets
 * another user replace the next name in it: not writable by others (nor by a group other than this
 * user's own), or sticky (`/tmp`) with that next entry this user's or root's.
 */
function noOtherUserCanReplace(path: Buffer): boolean {
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  const trusted = (stats: Stats) => stats.uid === 0 || stats.uid === uid;
  let dir = Buffer.from("/");
  for (const name of splitOn(path, 0x2f).filter((part) => part.length > 0)) {
    const folder = lstatSync(dir);
    const entry = Buffer.concat([dir, dir.length > 1 ? SLASH : EMPTY, name]);
    if (!trusted(folder)) return false;
    const othersWrite = (folder.mode & 0o002) !== 0 || ((folder.mode & 0o020) !== 0 && folder.gid !== gid);
    if (othersWrite && ((folder.mode & 0o1000) === 0 || !trusted(lstatSync(entry)))) return false;
    dir = entry;
  }
  return true;
}
