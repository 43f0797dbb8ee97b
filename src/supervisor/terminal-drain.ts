import { readSync } from "node:fs";
import type { Socket } from "node:net";
import type { StringDecoder } from "node:string_decoder";
import { StringDecoder as Decoder } from "node:string_decoder";

/** Past this much, a terminal still being written to (a process left holding it) is left. */
const MAX_LATE_BYTES = 1024 * 1024;

/**
 * A terminal is given a short while after its agent has exited to reach the end of what the agent
 * printed, then destroyed, and what was still unread would be lost. A supervisor busy with other
 * workers can be slower than that, and the end of an agent's output is often its answer. So before
 * `socket` (reading the terminal's master end, `fd`) is destroyed, what is left in it is read and
 * handed on as data.
 */
export function drainAtDestroy(socket: Socket, fd: number): void {
  const destroy = socket.destroy.bind(socket);
  socket.destroy = (error?: Error) => {
    if (!socket.destroyed) {
      // The socket's own decoder, which may hold the first bytes of a character cut in two.
      const own = (socket as unknown as { _readableState?: { decoder?: StringDecoder } })._readableState;
      const decoder = own?.decoder ?? new Decoder("utf8");
      const chunk = Buffer.alloc(64 * 1024);
      for (let total = 0; total < MAX_LATE_BYTES; ) {
        let n = 0;
        try {
          n = readSync(fd, chunk, 0, chunk.length, null);
        } catch {
          break; // nothing more now (EAGAIN), or the other end is closed (EIO)
        }
        if (n <= 0) break;
        total += n;
        socket.emit("data", decoder.write(chunk.subarray(0, n)));
      }
      const rest = decoder.end();
      if (rest) socket.emit("data", rest);
    }
    return destroy(error);
  };
}
