import { createHash } from "node:crypto";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

// Unix socket paths are limited to ~107 bytes; a deep workspace gets a short path under /tmp instead,
// inside a folder that only the user can open.
const MAX_SOCKET_PATH = 100;

export interface Endpoint {
  /** The socket the supervisor listens on. */
  readonly socket: string;
  /** A folder to create (owner-only) before listening, when the socket is not inside the store. */
  readonly socketDir: string | undefined;
  /** A Linux abstract socket name used as the single-supervisor lock; the kernel frees it on death. */
  readonly lockName: string;
}

export function endpointFor(home: string): Endpoint {
  const hash = createHash("sha256").update(home).digest("hex").slice(0, 16);
  const uid = userInfo().uid;
  const lockName = `\0baton-${uid}-${hash}`;
  const inStore = join(home, "supervisor.sock");
  if (inStore.length <= MAX_SOCKET_PATH) return { socket: inStore, socketDir: undefined, lockName };
  const dir = join(tmpdir(), `baton-${uid}`);
  return { socket: join(dir, `${hash}.sock`), socketDir: dir, lockName };
}
