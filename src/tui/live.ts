import type { Baton } from "../client/baton.js";
import type { BatonEvent } from "../events/types.js";
import { byWorkerId } from "../render/numbers.js";
import type { WorkerInfo } from "../worker/types.js";

// A live view of a workspace for the terminal views (`baton top`, `baton wait`'s progress lines): the
// listing, re-read after each batch of events that changes a worker, and what only events tell (when
// each worker last showed output or used tokens, which step each run is at).
//
// Why re-list rather than apply each event to the rows: `list()` is the supervisor's own account (it
// has elapsed time, queue positions, retries, confinement, which no event carries), it stays right
// when a reader falls behind and events are dropped, and a batch costs one listing however many
// events it holds. Re-listing is spaced at least LIST_EVERY_MS apart, so a busy workspace costs a
// view a few listings a second at most.

/** The least time between two listings. */
const LIST_EVERY_MS = 250;
/** How long one request for events waits for the first one. */
export const LONG_POLL_MS = 25_000;
/** Events read back at start to learn when each worker was last active and which runs are going. */
const CATCH_UP_EVENTS = 5_000;

/** A pattern or workflow run as its events tell it. */
export interface LiveRun {
  readonly id: string;
  readonly pattern: string;
  /** Its final state once ended; undefined while it runs. */
  readonly ended: string | undefined;
  /** The step it is at (or last finished), with that step's workers. */
  readonly step:
    | { readonly name: string; readonly ended: boolean; readonly workers: readonly string[] }
    | undefined;
  /** When its last event happened (ms since the epoch). */
  readonly at: number;
}

/** What a view draws, at one moment. */
export interface LiveSnapshot {
  /** Every worker (or the followed ones), by id: w2 before w10. */
  readonly workers: readonly WorkerInfo[];
  /** When the listing was read (ms since the epoch): a running worker's elapsed time grows from it. */
  readonly listedAt: number;
  /** When each worker last printed output or used tokens (ms since the epoch), where known. */
  readonly activity: ReadonlyMap<string, number>;
  /** Runs seen, the newest first. */
  readonly runs: readonly LiveRun[];
  /** Grows each time the plan or a run changed: a view re-reads the plans when it does. */
  readonly plans: number;
  readonly problems: readonly string[];
}

export interface FollowOptions {
  /** Only these workers. @default every worker */
  readonly workers?: readonly string[];
  /** Read back recent events first (activity and runs from before the view started). @default false */
  readonly catchUp?: boolean;
  /** Ends the following (the promise then resolves). */
  readonly signal: AbortSignal;
  /** Called with each new snapshot. */
  onSnapshot(snapshot: LiveSnapshot): void;
}

/**
 * Follows the workspace until `signal` aborts, calling `onSnapshot` with the first listing and then
 * after every batch of events. Rejects if the supervisor goes away (the view says so).
 */
export async function followWorkspace(baton: Baton, options: FollowOptions): Promise<void> {
  const { signal } = options;
  const wanted = options.workers?.length ? new Set(options.workers) : undefined;
  const activity = new Map<string, number>();
  const runs = new Map<string, LiveRun>();
  let plans = 0;
  let listed = { workers: [] as WorkerInfo[], listedAt: 0, problems: [] as string[] };
  /** The last event the listing already reflects. */
  let listedSeq = 0;

  const list = async () => {
    const wait = listed.listedAt + LIST_EVERY_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // Only the followed workers are listed: a long history of others costs nothing then.
    const listing = await baton.list(signal, wanted ? { workers: [...wanted] } : {});
    const workers = listing.workers.filter((w) => !wanted || wanted.has(w.id)).sort(byWorkerId);
    listed = { workers, listedAt: Date.now(), problems: listing.problems };
    listedSeq = listing.seq;
    return listing.seq;
  };
  const apply = (event: BatonEvent) => {
    const at = Date.parse(event.at) || Date.now();
    switch (event.type) {
      case "usage": {
        // Tokens and dollars grow between two listings: the row takes the newer ones as they come.
        const { tokens, usage, cost } = event;
        if (event.seq > listedSeq)
          listed.workers = listed.workers.map((w) =>
            w.id === event.worker ? { ...w, tokens, usage, ...(cost ? { cost } : {}) } : w,
          );
        activity.set(event.worker, Math.max(activity.get(event.worker) ?? 0, at));
        return false;
      }
      case "output":
      case "started":
        activity.set(event.worker, Math.max(activity.get(event.worker) ?? 0, at));
        return false;
      case "plan":
        plans += 1;
        return false;
      case "run": {
        const known = runs.get(event.run);
        const ended = event.phase === "ended" ? (event.state ?? "ended") : undefined;
        runs.set(event.run, { id: event.run, pattern: event.pattern, ended, step: known?.step, at });
        plans += 1;
        return false;
      }
      case "step": {
        const known = runs.get(event.run);
        const step = { name: event.step, ended: event.phase === "ended", workers: event.workers };
        runs.set(event.run, {
          id: event.run,
          pattern: known?.pattern ?? "run",
          ended: known?.ended,
          step,
          at,
        });
        plans += 1;
        return false;
      }
      default:
        return true; // a worker's state, tokens or record changed: read the listing again
    }
  };
  const snapshot = (): LiveSnapshot => ({
    ...listed,
    activity: new Map(activity),
    runs: [...runs.values()].sort((a, b) => b.at - a.at),
    plans,
  });

  let since = await list();
  if (signal.aborted) return;
  options.onSnapshot(snapshot());
  if (options.catchUp) {
    // Drawn first, completed after: the workers at once, then when each was last active.
    await catchUp(baton, since, { ...options, apply });
    if (signal.aborted) return;
    options.onSnapshot(snapshot());
  }
  while (!signal.aborted) {
    let batch: Awaited<ReturnType<Baton["events"]>>;
    try {
      batch = await baton.events(
        since,
        { waitMs: LONG_POLL_MS, ...(wanted ? { workers: [...wanted] } : {}) },
        signal,
      );
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    since = batch.next;
    let relist = batch.missed > 0;
    for (const event of batch.events) relist = apply(event) || relist;
    if (relist) await list();
    if (signal.aborted) return;
    options.onSnapshot(snapshot());
  }
}

/** Reads back the events just before `seq` (at most CATCH_UP_EVENTS) for activity and runs. */
async function catchUp(
  baton: Baton,
  seq: number,
  options: FollowOptions & { apply(event: BatonEvent): boolean },
): Promise<void> {
  let since = Math.max(0, seq - CATCH_UP_EVENTS);
  while (since < seq && !options.signal.aborted) {
    const query = options.workers?.length ? { workers: options.workers } : {};
    const batch = await baton.events(since, query, options.signal);
    for (const event of batch.events) if (event.seq <= seq) options.apply(event);
    if (batch.next <= since) return;
    since = batch.next;
  }
}
