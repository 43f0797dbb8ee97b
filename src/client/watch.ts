import { BatonError } from "../errors.js";
import type { EventQuery } from "../events/bus.js";
import { Following, type Targets } from "../events/targets.js";
import type { BatonEvent, EventBatch } from "../events/types.js";
import type { WorkerInfo } from "../worker/types.js";

/** How long one request for events waits for the first one before it asks again. */
const LONG_POLL_MS = 25_000;

export interface WatchOptions {
  /** Start after this sequence number (the last one seen). @default now: only events still to come */
  readonly since?: number;
  /** Only events about these workers (events about no worker, such as runs and the plan, always come). */
  readonly workers?: readonly string[];
  /** Ends the iteration (no error). */
  readonly signal?: AbortSignal;
  /** Told when the supervisor no longer had events the reader asked for (it fell too far behind). */
  readonly onMissed?: (count: number) => void;
}

/** Reads events in batches; what `Baton.events` does. */
export type ReadEvents = (since: number, query: EventQuery, signal: AbortSignal) => Promise<EventBatch>;

/**
 * Every event after `since`, as it happens, in order, each once. Long-polls the supervisor, so an idle
 * workspace costs one request every 25 s. Ends when `signal` aborts; throws if the supervisor goes away
 * (resume with `since` set to the last `seq` seen, and nothing is missed or repeated).
 */
export async function* watchEvents(read: ReadEvents, options: WatchOptions = {}): AsyncGenerator<BatonEvent> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
  let since = options.since ?? Number.MAX_SAFE_INTEGER;
  try {
    while (!controller.signal.aborted) {
      let batch: EventBatch;
      try {
        batch = await read(
          since,
          { waitMs: LONG_POLL_MS, ...(options.workers?.length ? { workers: options.workers } : {}) },
          controller.signal,
        );
      } catch (error) {
        if (controller.signal.aborted) return;
        throw error;
      }
      if (batch.missed > 0) options.onMissed?.(batch.missed);
      since = batch.next;
      for (const event of batch.events) {
        if (controller.signal.aborted) return;
        yield event;
      }
    }
  } finally {
    options.signal?.removeEventListener("abort", stop);
    controller.abort();
  }
}

/** What `follow` needs of a Baton: a snapshot, the run store, and the event stream. */
export interface Followable {
  readonly home: string;
  list(signal?: AbortSignal): Promise<{ workers: readonly WorkerInfo[]; seq: number }>;
  watch(options: WatchOptions): AsyncGenerator<BatonEvent>;
}

/**
 * The events about some workers and runs (all events when none are named), as they happen, until every
 * named worker and run has ended. Without `since`, from now; with it, what was kept since then too.
 */
export async function* followEvents(
  baton: Followable,
  targets: Targets,
  options: Omit<WatchOptions, "workers"> = {},
): AsyncGenerator<BatonEvent> {
  const snapshot = await baton.list(options.signal);
  const unknown = targets.workers.find((id) => !snapshot.workers.some((worker) => worker.id === id));
  if (unknown)
    throw new BatonError("not_found", `no worker "${unknown}" in this workspace: see \`baton ls\``);
  const ended = new Set<string>();
  for (const run of targets.runs) {
    const { RunRecord } = await import("../pattern/run-record.js");
    const record = await RunRecord.open(baton.home, run);
    if (record.snapshot.state !== "running") ended.add(run);
  }
  const following = new Following(targets, snapshot.workers, ended);
  if (following.over && options.since === undefined) return;
  // Workers named alone are filtered by the supervisor; a run's workers are known only as it spawns them.
  const workers = targets.runs.length === 0 ? targets.workers : [];
  const since = options.since ?? snapshot.seq;
  for await (const event of baton.watch({ ...options, since, workers })) {
    if (following.see(event)) yield event;
    if (following.over) return;
  }
}
