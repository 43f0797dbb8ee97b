import net from "node:net";
import { BatonError, type BatonErrorCode, errnoOf } from "../errors.js";
import { proveCaller } from "../protocol/caller-proof.js";
import { LineSplitter, MAX_MESSAGE_BYTES, MAX_REPLY_BYTES } from "../protocol/lines.js";
import type { Response } from "../protocol/messages.js";
import type { RequestOptions, Transport } from "../protocol/transport.js";
import { checkSocketDir } from "../supervisor/endpoint.js";
import { ANSWER_TIMEOUT_MS, isStopped, lockHolder, notAnswering } from "./supervisor-process.js";

// No request waits on a supervisor that has stopped answering (SIGSTOP, a wedged event loop): while
// any request is out and the socket has been quiet for PING_AFTER_MS, a hello goes out as a ping, and
// a supervisor silent for ANSWER_TIMEOUT_MS fails every request with an error that names its pid.
// A request may also carry its own bound, for a supervisor that pings back but never answers it (its
// disk is stuck).

const PING_AFTER_MS = 1_000;
const BEAT_MS = PING_AFTER_MS / 2;
/** A hello not answered by then: whether the supervisor is stopped (it then answers nothing) is looked at. */
const STOPPED_CHECK_MS = 500;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** A heartbeat of ours, not a caller's request: it alone does not keep the heartbeat going. */
  readonly ping: boolean;
}

export type { RequestOptions } from "../protocol/transport.js";

/** One socket to the supervisor, carrying any number of concurrent requests. */
export class Connection implements Transport {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: BatonError | undefined;
  private lastHeard = Date.now();
  /** When the heartbeat last ran. */
  private lastBeat = Date.now();
  private heartbeat: NodeJS.Timeout | undefined;
  private pinging = false;
  /** The supervisor's pid, from its answer to the hello. */
  private pid: number | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly home: string,
  ) {
    const splitter = new LineSplitter(MAX_REPLY_BYTES);
    socket.on("data", (chunk: Buffer) => {
      this.lastHeard = Date.now();
      try {
        for (const line of splitter.push(chunk)) this.onResponse(JSON.parse(line) as Response);
      } catch {
        this.fail(
          new BatonError(
            "supervisor",
            "the supervisor sent a reply too long or garbled to read: ask for less (--max-bytes)",
          ),
        );
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.stopHeartbeat();
      for (const pending of this.pending.values()) {
        pending.reject(
          this.failure ??
            new BatonError("supervisor", "the supervisor closed the connection: run the command again"),
        );
      }
      this.pending.clear();
    });
  }

  /**
   * Connects to the socket at `path` and says hello with this process's pid, which the supervisor
   * checks. Rejects with the system error code if nobody listens, with the supervisor's refusal, or
   * with a `timeout` BatonError naming its pid if both do not happen within `timeoutMs`.
   */
  static async open(
    path: string,
    options: { readonly home: string; readonly timeoutMs?: number },
  ): Promise<Connection> {
    checkSocketDir(path);
    const timeoutMs = options.timeoutMs ?? ANSWER_TIMEOUT_MS;
    const socket = net.createConnection(path);
    let timer: NodeJS.Timeout | undefined;
    let check: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(notAnswering(options.home)), timeoutMs);
      check = setTimeout(() => {
        const pid = lockHolder(options.home)?.pid;
        if (pid !== undefined && isStopped(pid)) reject(notAnswering(options.home, pid));
      }, STOPPED_CHECK_MS);
    });
    try {
      await Promise.race([
        late,
        new Promise<void>((resolve, reject) => {
          socket.once("connect", () => {
            socket.off("error", reject);
            resolve();
          });
          socket.once("error", reject);
        }),
      ]);
      const connection = new Connection(socket, options.home);
      // Held until the hello is answered: the supervisor checks that this process holds it.
      const proof = proveCaller(path);
      try {
        const hello = connection.request<{ pid?: unknown }>("hello", {
          pid: process.pid,
          ...(proof ? { proof: proof.secret } : {}),
        });
        const { pid } = await Promise.race([late, hello]);
        if (typeof pid === "number") connection.pid = pid;
      } catch (error) {
        connection.close();
        throw error;
      } finally {
        proof?.release();
      }
      return connection;
    } catch (error) {
      socket.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
      clearTimeout(check);
    }
  }

  request<T>(method: string, params?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.send<T>(method, params, options, false);
  }

  private send<T>(method: string, params: unknown, options: RequestOptions, ping: boolean): Promise<T> {
    if (this.socket.destroyed) {
      return Promise.reject(
        this.failure ?? new BatonError("supervisor", "the connection to the supervisor is closed"),
      );
    }
    const { signal, timeoutMs } = options;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new BatonError("aborted", `${method} was aborted`));
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.pending.delete(id);
      };
      // Tell the supervisor to drop it; the connection stays usable for other requests.
      const drop = (error: BatonError) => {
        settle();
        reject(error);
        if (!this.socket.destroyed) {
          this.socket.write(`${JSON.stringify({ id: this.nextId++, method: "cancel", params: { id } })}\n`);
        }
      };
      const onAbort = () => drop(new BatonError("aborted", `${method} was aborted`));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        resolve: (value) => {
          settle();
          resolve(value as T);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
        ping,
      });
      const line = `${JSON.stringify({ id, method, params })}\n`;
      if (Buffer.byteLength(line) > MAX_MESSAGE_BYTES) {
        settle();
        const mb = (bytes: number) => `${Math.ceil(bytes / (1024 * 1024))} MiB`;
        reject(
          new BatonError(
            "usage",
            `the ${method} request is ${mb(Buffer.byteLength(line))}, more than the ${mb(MAX_MESSAGE_BYTES)} the supervisor reads: shorten the prompt, and point to files instead of pasting them`,
          ),
        );
        return;
      }
      if (timeoutMs !== undefined) {
        const due = Date.now() + timeoutMs;
        let heldUp = false;
        // Judged after the socket is read once more: if this process was held up (a long synchronous
        // call), the reply may be waiting there, unread, though it came in time; or still coming in,
        // if it is large: then it gets one more while of listening.
        const judge = () =>
          setImmediate(() => {
            if (!this.pending.has(id)) return;
            if (!heldUp && Date.now() - due > BEAT_MS) {
              heldUp = true;
              timer = setTimeout(judge, ANSWER_TIMEOUT_MS);
              return;
            }
            const seconds = Math.round(timeoutMs / 100) / 10;
            drop(
              notAnswering(this.home, this.pid, `is not answering (no reply to ${method} in ${seconds} s)`),
            );
          });
        timer = setTimeout(judge, timeoutMs);
      }
      if (!ping) this.startHeartbeat();
      this.socket.write(line);
    });
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.lastHeard = Math.max(this.lastHeard, Date.now() - PING_AFTER_MS); // quiet until now is not silence
    this.lastBeat = Date.now();
    this.heartbeat = setInterval(() => this.beat(), BEAT_MS);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private beat(): void {
    if (![...this.pending.values()].some((p) => !p.ping)) {
      this.stopHeartbeat();
      return;
    }
    // Silence counts only while this process could listen: a beat that comes late was held up here (a
    // long synchronous call), and what the supervisor sent meanwhile is still unread in the socket.
    const now = Date.now();
    const held = now - this.lastBeat - BEAT_MS;
    this.lastBeat = now;
    if (held > 0) this.lastHeard = Math.min(now, this.lastHeard + held);
    const quiet = now - this.lastHeard;
    if (quiet >= ANSWER_TIMEOUT_MS) {
      this.fail(notAnswering(this.home, this.pid));
      return;
    }
    if (quiet >= PING_AFTER_MS && !this.pinging) {
      this.pinging = true;
      this.send("hello", { pid: process.pid }, {}, true)
        .catch(() => {})
        .finally(() => {
          this.pinging = false;
        });
    }
  }

  /** Fails every request with `error` and drops the connection. */
  private fail(error: BatonError): void {
    this.failure ??= error;
    this.socket.destroy();
  }

  private onResponse(response: Response): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if (response.ok) pending.resolve(response.result);
    else pending.reject(new BatonError(response.error.code as BatonErrorCode, response.error.message));
  }

  close(): void {
    this.stopHeartbeat();
    this.socket.end();
    this.socket.destroy();
  }
}

export const isNotListening = (error: unknown): boolean => {
  const code = errnoOf(error);
  return code === "ENOENT" || code === "ECONNREFUSED";
};
