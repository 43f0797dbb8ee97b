import net from "node:net";
import { BatonError, type BatonErrorCode, errnoOf } from "../errors.js";
import { LineSplitter, MAX_MESSAGE_BYTES, MAX_REPLY_BYTES } from "../protocol/lines.js";
import type { Response } from "../protocol/messages.js";
import { checkSocketDir } from "../supervisor/endpoint.js";

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** One socket to the supervisor, carrying any number of concurrent requests. */
export class Connection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: string | undefined;

  private constructor(private readonly socket: net.Socket) {
    const splitter = new LineSplitter(MAX_REPLY_BYTES);
    socket.on("data", (chunk: Buffer) => {
      try {
        for (const line of splitter.push(chunk)) this.onResponse(JSON.parse(line) as Response);
      } catch {
        this.failure = "the supervisor sent a reply too long or garbled to read: ask for less (--max-bytes)";
        socket.destroy(); // fail every pending request rather than guess
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      for (const pending of this.pending.values()) {
        pending.reject(
          new BatonError(
            "supervisor",
            this.failure ?? "the supervisor closed the connection: run the command again",
          ),
        );
      }
      this.pending.clear();
    });
  }

  /**
   * Connects to the socket at `path` and says hello with this process's pid, which the supervisor
   * checks. Rejects with the system error code if nobody listens, or with the supervisor's refusal.
   */
  static async open(path: string): Promise<Connection> {
    checkSocketDir(path);
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const socket = net.createConnection(path);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(socket);
      });
      socket.once("error", reject);
    });
    const connection = new Connection(socket);
    try {
      await connection.request("hello", { pid: process.pid });
    } catch (error) {
      connection.close();
      throw error;
    }
    return connection;
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
      const line = `${JSON.stringify({ id, method, params })}\n`;
      if (Buffer.byteLength(line) > MAX_MESSAGE_BYTES) {
        this.pending.delete(id);
        signal?.removeEventListener("abort", onAbort);
        const mb = (bytes: number) => `${Math.ceil(bytes / (1024 * 1024))} MiB`;
        reject(
          new BatonError(
            "usage",
            `the ${method} request is ${mb(Buffer.byteLength(line))}, more than the ${mb(MAX_MESSAGE_BYTES)} the supervisor reads: shorten the prompt, and point to files instead of pasting them`,
          ),
        );
        return;
      }
      this.socket.write(line);
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
