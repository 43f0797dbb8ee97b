import type { EventLog } from "./log.js";
import { type BatonEvent, type EventBatch, type EventBody, type EventType, workerOf } from "./types.js";

/** How many recent events are kept in memory (up to a quarter more); older ones are read back from the log. */
const KEEP = 20_000;

/** Most events one batch may hold. */
export const MAX_BATCH = 1_000;

export interface EventQuery {
  /** At most this many events. @default 1000 */
  readonly max?: number;
  /** Wait up to this long for the first matching event. @default 0 */
  readonly waitMs?: number;
  /** Only events about these workers (events about no worker, such as plans and runs, always pass). */
  readonly workers?: readonly string[];
  /** Only events of these types. @default every type */
  readonly types?: readonly EventType[];
}

/**
 * The one stream of what happens in a workspace. Every event gets the next sequence number; readers
 * ask for the events after the last one they saw, and wait for more without polling.
 */
export class EventBus {
  private readonly kept: BatonEvent[] = [];
  private last: number;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly log: EventLog | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.last = log?.open() ?? 0;
  }

  /** The sequence number of the newest event (0 before the first). */
  get seq(): number {
    return this.last;
  }

  emit(body: EventBody): BatonEvent {
    const event = { seq: ++this.last, at: this.now().toISOString(), ...body } as BatonEvent;
    this.kept.push(event);
    // Trimmed a quarter at a time: a splice of the window's front at every event moved 20,000 entries.
    if (this.kept.length >= KEEP + KEEP / 4) this.kept.splice(0, this.kept.length - KEEP);
    this.log?.append(event);
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiting) wake();
    return event;
  }

  /** The events after `since` that match, at once (no waiting). */
  after(since: number, query: EventQuery = {}): EventBatch {
    // A reader ahead of the stream (its store was made anew) starts from now.
    since = Math.min(since, this.last);
    const max = Math.min(query.max ?? MAX_BATCH, MAX_BATCH);
    const wanted = query.workers?.length ? new Set(query.workers) : undefined;
    const types = query.types?.length ? new Set(query.types) : undefined;
    const matches = (event: BatonEvent) => {
      if (types && !types.has(event.type)) return false;
      const worker = workerOf(event);
      return !wanted || worker === undefined || wanted.has(worker);
    };
    const oldest = this.kept[0]?.seq ?? this.last + 1;
    let source: readonly BatonEvent[] = this.kept;
    let missed = 0;
    if (since + 1 < oldest && since < this.last) {
      // Behind the memory window: the log has them, unless it was set aside or could not be written.
      const fromLog = this.log?.read(since, KEEP) ?? [];
      const first = fromLog[0]?.seq ?? oldest;
      missed = Math.max(0, first - since - 1);
      source = [...fromLog.filter((e) => e.seq < oldest), ...this.kept];
    }
    const events: BatonEvent[] = [];
    let next = since;
    for (let i = firstAfter(source, since); i < source.length; i++) {
      const event = source[i]!;
      next = event.seq;
      if (matches(event)) events.push(event);
      if (events.length >= max) break;
    }
    return { events, next, missed };
  }

  /**
   * The events after `since` that match; if there are none yet, waits up to `waitMs` for one, or until
   * `signal` aborts, and answers with what there is then (possibly nothing).
   */
  async next(since: number, query: EventQuery = {}, signal?: AbortSignal): Promise<EventBatch> {
    const deadline = Date.now() + (query.waitMs ?? 0);
    for (;;) {
      const batch = this.after(since, query);
      const left = deadline - Date.now();
      if (batch.events.length > 0 || left <= 0 || signal?.aborted) return batch;
      // Events that did not match still move the reader on: it never reads them again.
      since = batch.next;
      await this.changed(left, signal);
    }
  }

  private changed(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      this.waiters.add(done);
    });
  }

  /** Writes what is pending to the log. */
  close(): void {
    this.log?.flush();
  }
}

/** The index of the first of `events` (in order of seq) after `since`: read from there, not from the start. */
function firstAfter(events: readonly BatonEvent[], since: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (events[middle]!.seq <= since) low = middle + 1;
    else high = middle;
  }
  return low;
}
