import type { Store } from "../store/store.js";
import type { WorkerSpec, WorkerStatus } from "../worker/types.js";
import type { Problems } from "./problems.js";

/** What is written of a worker (an entry of the worker table). */
interface Entry {
  readonly spec: Pick<WorkerSpec, "id">;
  readonly status: WorkerStatus;
  unrecorded?: boolean;
}

/**
 * How long a status change may wait before it is written, unless it ends the worker: a worker's
 * changes come in bursts (running, its pid, its thread, its usage), and one write then carries them
 * all. Only changes within a state that a restarted supervisor does not need (usage, cost, pid) wait:
 * a new state or thread is written at once, and a final one after the result. Each write rewrites the
 * file in place where that is whole or not at all (../store/rewrite.ts), else replaces it.
 */
export const STATUS_SETTLE_MS = 200;

/**
 * Writes each worker's status.json, one write at a time, always the status as it is when the write
 * starts: moves that come while a write is queued share it, so the newest always reaches the file and
 * the ones it made stale are never written. Nothing is flushed to disk (see publish.ts); the result is.
 */
export class StatusWriter {
  /** Each worker's write under way: one at a time, the newest last. */
  private readonly writes = new Map<string, Promise<void>>();
  /** Workers with a write queued that has not started: a later move needs none of its own. */
  private readonly queued = new Set<string>();
  /** Workers whose status changed within its state, written once it settles. */
  private readonly settling = new Map<string, { entry: Entry; timer: NodeJS.Timeout }>();

  constructor(
    private readonly store: Store,
    private readonly problems: Problems,
  ) {}

  /** The entry's status changed: written now when `now` (it ended, or left an end), else once it settles. */
  changed(entry: Entry, now: boolean): void {
    const id = entry.spec.id;
    if (now) {
      this.write(entry);
      return;
    }
    if (this.settling.has(id) || this.queued.has(id)) return;
    const timer = setTimeout(() => this.write(entry), STATUS_SETTLE_MS);
    timer.unref();
    this.settling.set(id, { entry, timer });
  }

  /** Resolves once every write, the settling ones too, has ended. */
  async flush(): Promise<void> {
    for (const { entry } of [...this.settling.values()]) this.write(entry);
    await Promise.all(this.writes.values());
  }

  private write(entry: Entry): void {
    const id = entry.spec.id;
    const settling = this.settling.get(id);
    if (settling) {
      clearTimeout(settling.timer);
      this.settling.delete(id);
    }
    if (this.queued.has(id)) return;
    const write = (this.writes.get(id) ?? Promise.resolve())
      .then(() => {
        this.queued.delete(id);
        return this.store.writeStatus(entry.status);
      })
      .catch((error: Error) => {
        entry.unrecorded = true;
        this.problems.add(`worker ${id}: ${error.message}`);
      });
    this.queued.add(id);
    this.writes.set(id, write);
  }
}
