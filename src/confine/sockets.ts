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
  table = readTable(),
  /** Sockets left uncovered (a supervisor's), by the path they were bound at and its inodes. */
  exempt: (socket: string, inodes: readonly number[]) => boolean = () => false,
): string[] {
  const found = new Set<string>();
  for (const [path, inodes] of listeningSockets(table)) {
    if (exempt(path, inodes)) continue;
    const real = reachableSocket(path);
    if (real && found.size < MAX_COVERED_SOCKETS) found.add(real);
  }
  return [...found];
}

/**
 * The sockets of the kernel's table that one can connect or send to, by the absolute path they were
 * bound at (name services left out), each with the inodes listed at that path (what `/proc/<pid>/fd`
 * links name): one, unless the first socket's file was removed and another bound in its place.
 */
export function listeningSockets(table = readTable()): Map<string, number[]> {
  const bound = new Map<string, number[]>();
  for (const line of table.split("\n").slice(1)) {
    const [, flags, type, inode, path] = ROW.exec(line) ?? [];
    // A server's accepted connections carry its path too: only what one can connect or send to counts.
    const listens = (Number.parseInt(flags ?? "0", 16) & ACCEPTS) !== 0 || type === DATAGRAM;
    if (path && listens && isAbsolute(path) && normalize(path) === path && !isNameService(path))
      bound.set(path, [...(bound.get(path) ?? []), Number(inode)]);
  }
  return bound;
}

/**
 * Flags, type, inode and path of one row: `Num: RefCount Protocol Flags Type St Inode Path`, the
 * inode padded to five places, the path (which may hold spaces) absent for unnamed sockets.
 */
const ROW = /^\s*\S+:\s+\S+\s+\S+\s+(\S+)\s+(\S+)\s+\S+\s+(\d+) (.+)$/;
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

function readTable(): string {
  try {
    return readFileSync("/proc/net/unix", "utf8");
  } catch {
    return ""; // no /proc here: nothing known to hide
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
