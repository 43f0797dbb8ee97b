import net from "node:net";
import { BatonError, type BatonErrorCode, errnoOf } from "../errors.js";
import { LineSplitter, MAX_MESSAGE_BYTES } from "../protocol/lines.js";
import type { Response } from "../protocol/messages.js";

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** One socket to the supervisor, carrying any number of concurrent requests. */
export class Connection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(private readonly socket: net.Socket) {
    const splitter = new LineSplitter(MAX_MESSAGE_BYTES);
    socket.on("data", (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) {
        try {
          this.onResponse(JSON.parse(line) as Response);
        } catch {
          socket.destroy(); // a garbled line: fail every pending request rather than guess
        }
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      for (const pending of this.pending.values()) {
        pending.reject(
          new BatonError("supervisor", "the supervisor closed the connection: run the command again"),
        );
      }
      this.pending.clear();
    });
  }

  /** Connects to the socket at `path`; rejects with the system error code on failure. */
  static open(path: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(path);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new Connection(socket));
      });
      socket.once("error", reject);
    });
  }

  request<T>(method: string, params?: unknown, signal?: AbortSignal): Promise<T> {
    if (this.socket.destroyed) {
      return Promise.reject(new BatonError("supervisor", "the connection to the supervisor is closed"));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new BatonError("aborted", `${method} was aborted`));
        return;
      }
      const onAbort = () => {
        this.pending.delete(id);
        reject(new BatonError("aborted", `${method} was aborted`));
        // Tell the supervisor to drop it; the connection stays usable for other requests.
        if (!this.socket.destroyed) {
          this.socket.write(`${JSON.stringify({ id: this.nextId++, method: "cancel", params: { id } })}\n`);
        }
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        resolve: (value) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(value as T);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      });
      this.socket.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  private onResponse(response: Response): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if (response.ok) pending.resolve(response.result);
    else pending.reject(new BatonError(response.error.code as BatonErrorCode, response.error.message));
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}

export const isNotListening = (error: unknown): boolean => {
  const code = errnoOf(error);
  return code === "ENOENT" || code === "ECONNREFUSED";
};
