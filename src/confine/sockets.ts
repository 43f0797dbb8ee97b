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
  const found = new Set<string>();
  for (const line of table.split("\n").slice(1)) {
    const path = PATH_COLUMN.exec(line)?.[1];
    if (!path || !isAbsolute(path) || normalize(path) !== path) continue;
    const real = reachableSocket(path);
    if (real) found.add(real);
  }
  return [...found];
}

/** The eighth column, the path, which may hold spaces; absent for unnamed sockets. */
const PATH_COLUMN = /^\s*\S+: \S+ \S+ \S+ \S+ \S+ \S+ (.+)$/;

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
