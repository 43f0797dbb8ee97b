import { accessSync, constants, lstatSync, readFileSync, realpathSync } from "node:fs";
import { isAbsolute, normalize } from "node:path";

/**
 * The Unix sockets that programs on this machine listen on, by path, that this user could connect
 * to: a container engine's, an SSH or GPG agent's, a desktop bus's, the user's systemd (which starts
 * commands for its clients, outside any sandbox). A confined worker that reached one could have that
 * program act for it, outside its scope; each sandbox puts an empty file in their place.
 *
 * The kernel lists every bound socket of this network namespace in `/proc/net/unix`, which is read
 * again for each worker (a socket bound since is seen by the next one). A path there is the one the
 * program bound; it is kept, as the real path it names, only while a socket is still there (never a
 * file a link at its end points to) and this user may connect to it (write permission on it and
 * every folder above).
 * Sockets in the abstract namespace (a name, no file) cannot be hidden this way: only a network
 * namespace of its own would, and the agent needs the network for its model.
 */
export function reachableSockets(table = readTable()): string[] {
  const bound = new Set<string>();
  for (const line of table.split("\n").slice(1)) {
    const [, flags, type, path] = ROW.exec(line) ?? [];
    // A server's accepted connections carry its path too: only what one can connect or send to counts.
    const listens = (Number.parseInt(flags ?? "0", 16) & ACCEPTS) !== 0 || type === DATAGRAM;
    if (path && listens && isAbsolute(path) && normalize(path) === path) bound.add(path);
  }
  const found = new Set<string>();
  for (const path of bound) {
    const real = reachableSocket(path);
    if (real) found.add(real);
  }
  return [...found];
}

/** Flags, type and path (which may hold spaces; absent for unnamed sockets) of one row. */
const ROW = /^\s*\S+: \S+ \S+ (\S+) (\S+) \S+ \S+ (.+)$/;
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
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
