import { accessSync, constants, lstatSync, readFileSync, realpathSync, type Stats } from "node:fs";
import { isAbsolute, join, normalize } from "node:path";

/** At most this many sockets are covered in one sandbox (each is one mount, and three arguments). */
export const MAX_COVERED_SOCKETS = 512;

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
    if (real && found.size < MAX_COVERED_SOCKETS) found.add(real);
  }
  for (const path of unnamable) {
    const folder = folderToHide(path);
    if (folder && found.size < MAX_COVERED_SOCKETS) found.add(folder);
  }
  return [...found];
}

/**
 * The sockets of the kernel's table that one can connect or send to, by the absolute path they were
 * bound at (name services left out), each with the inodes listed at that path (what `/proc/<pid>/fd`
 * links name): one, unless the first socket's file was removed and another bound in its place.
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
  const lines = splitLines(typeof table === "string" ? Buffer.from(table) : table).slice(1);
  lines.forEach((line, i) => {
    const head = ROW.exec(line.toString("latin1")); // the columns before the path are ASCII
    if (!head || head[0].length >= line.length) return; // not a row, or an unnamed socket
    const [start, flags, type, inode] = head;
    // A server's accepted connections carry its path too: only what one can connect or send to counts.
    if ((Number.parseInt(flags ?? "0", 16) & ACCEPTS) === 0 && type !== DATAGRAM) return;
    let path = line.subarray(start.length);
    for (let next = i + 1; ; next++) {
      const text = path.toString("utf8");
      if (!Buffer.from(text).equals(path)) unnamable.push(path);
      else if (isAbsolute(text) && normalize(text) === text && !isNameService(text))
        named.set(text, [...(named.get(text) ?? []), Number(inode)]);
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

function splitLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let at = 0;
  for (let end = bytes.indexOf(0x0a); end >= 0; end = bytes.indexOf(0x0a, at)) {
    lines.push(bytes.subarray(at, end));
    at = end + 1;
  }
  if (at < bytes.length) lines.push(bytes.subarray(at));
  return lines;
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
    if (!lstatSync(path).isSocket()) return undefined;
    accessSync(path, constants.W_OK);
    const real = realpathSync(path);
    return lstatSync(real).isSocket() && noOtherUserCanReplace(real) ? real : undefined;
  } catch {
    return undefined;
  }
}

/**
 * For a socket whose path is not UTF-8 (see boundSockets): the deepest folder above it whose path is,
 * to be hidden whole, as long as the socket is there, reachable, and no other user could replace what
 * leads to that folder. All else the folder holds is hidden with it: only a program that binds such a
 * name (a worker in its scope, to be reached from other sandboxes) loses by it.
 */
function folderToHide(path: Buffer): string | undefined {
  if (path[0] !== 0x2f) return undefined; // an abstract name (`@...`): no file
  try {
    if (!lstatSync(path).isSocket()) return undefined;
    accessSync(path, constants.W_OK);
    for (let end = path.lastIndexOf(0x2f); end > 0; end = path.lastIndexOf(0x2f, end - 1)) {
      const folder = path.subarray(0, end);
      const text = folder.toString("utf8");
      if (!Buffer.from(text).equals(folder) || !isAbsolute(text)) continue;
      const real = realpathSync(text);
      return lstatSync(real).isDirectory() && noOtherUserCanReplace(real) ? real : undefined;
    }
  } catch {}
  return undefined;
}

/**
 * Whether every folder from `/` down to `path` (a real path) is this user's or root's, and none lets
 * another user replace the next name in it: not writable by others (nor by a group other than this
 * user's own), or sticky (`/tmp`) with that next entry this user's or root's.
 */
function noOtherUserCanReplace(path: string): boolean {
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  const trusted = (stats: Stats) => stats.uid === 0 || stats.uid === uid;
  let dir = "/";
  for (const name of path.split("/").filter(Boolean)) {
    const folder = lstatSync(dir);
    const entry = join(dir, name);
    if (!trusted(folder)) return false;
    const othersWrite = (folder.mode & 0o002) !== 0 || ((folder.mode & 0o020) !== 0 && folder.gid !== gid);
    if (othersWrite && ((folder.mode & 0o1000) === 0 || !trusted(lstatSync(entry)))) return false;
    dir = entry;
  }
  return true;
}
