import { createHash, randomBytes } from "node:crypto";
import { closeSync, constants, openSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";

// How a client proves to the supervisor that the pid in its hello is its own, without the supervisor
// asking the kernel who holds the other end (node has no SO_PEERCRED, and `ss` is a process per
// connection). The client makes up a secret, holds open a file in the socket's folder named after the
// secret's hash, and sends the secret in its hello. Only the connection's holder knows the secret
// (it crosses this connection alone), and only the process itself can make a file appear among its
// own open files (/proc/<pid>/fd): so a process that names another's pid cannot show that process
// holding the file, and one that reads another's open files learns a hash it cannot turn back.

const PREFIX = ".baton-hello-";

/** The file name that proves `secret`, as a process holding it shows it in /proc/<pid>/fd. */
export function proofFile(socketDir: string, secret: string): string {
  return join(socketDir, `${PREFIX}${createHash("sha256").update(secret).digest("hex")}`);
}

/** A client's proof, held until its hello is answered. */
export interface CallerProof {
  readonly secret: string;
  release(): void;
}

/**
 * Opens this process's proof for a hello on the socket at `socketPath`; undefined where the file cannot
 * be made (the supervisor then asks the kernel instead). The file is removed at once: only the open
 * file remains, and it goes with the process.
 */
export function proveCaller(socketPath: string): CallerProof | undefined {
  const secret = randomBytes(32).toString("hex");
  const path = proofFile(dirname(socketPath), secret);
  let fd: number;
  try {
    fd = openSync(path, CREATE, 0o600);
  } catch {
    return undefined;
  }
  try {
    unlinkSync(path);
  } catch {}
  return {
    secret,
    release: () => {
      try {
        closeSync(fd);
      } catch {}
    },
  };
}

const CREATE = constants.O_RDONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
