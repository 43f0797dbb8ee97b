import type { Queue } from "bullmq";
import { type HostUpdate, WIRE_VERSION } from "../queue/wire.js";

/** How long a host gathers a worker's output before it sends it on. */
const BATCH_MS = 150;
/** Most transcript text one update carries. */
const MAX_TEXT_BYTES = 256 * 1024;

type Fields = Omit<HostUpdate, "v" | "workspace" | "job" | "host" | "run">;

/**
 * Sends what one job's worker does to the coordinator, as jobs of the workspace's updates queue
 * (BullMQ keeps them until the coordinator takes them, so a coordinator that restarts misses none):
 * transcript text with its offset, thread, usage and retries, gathered for a moment and sent in order.
 */
export class Reporter {
  private pending: Fields = {};
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  /** The first update the queue refused, if any: the host says so, and the job goes on. */
  failure: Error | undefined;

  constructor(
    private readonly queue: Queue,
    private readonly who: { workspace: string; job: string; host: string; run: string },
  ) {}

  /** Sends at once (with what is pending): the start of a run, a retry. */
  now(fields: Fields): void {
    this.merge(fields);
    this.flush();
  }

  /** Sends within a moment, with whatever else comes meanwhile. */
  soon(fields: Fields): void {
    this.merge(fields);
    const text = this.pending.transcript?.text;
    if (text && Buffer.byteLength(text) >= MAX_TEXT_BYTES) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  /** Sends what is pending and resolves once every update is in Redis. */
  async close(): Promise<void> {
    this.flush();
    await this.sending;
  }

  private merge(fields: Fields): void {
    const { transcript, ...rest } = fields;
    const held = this.pending.transcript;
    this.pending = { ...this.pending, ...rest };
    if (transcript) {
      this.pending.transcript = held
        ? { offset: held.offset, text: held.text + transcript.text }
        : { ...transcript };
    }
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (Object.keys(this.pending).length === 0) return;
    const update: HostUpdate = { v: WIRE_VERSION, ...this.who, ...this.pending };
    this.pending = {};
    // One after another: the coordinator applies them in the order they were added.
    this.sending = this.sending.then(() =>
      this.queue
        .add("update", update, {
          removeOnComplete: true,
          removeOnFail: { count: 1_000 },
          // An update that comes before one still on its way (a coordinator killed while it held it:
          // back within its 4 s lock plus a 2 s check) is tried again for a minute.
          attempts: 300,
          backoff: { type: "fixed", delay: 200 },
        })
        .then(
          () => {},
          (error: Error) => {
            this.failure ??= error;
          },
        ),
    );
  }
}
