import { isFinal } from "../worker/state.js";
import type { EndReason, Scope, WorkerSpec } from "../worker/types.js";
import type { Entry, WorkerTable } from "./worker-table.js";
import { conflict } from "./writer-lock.js";

/** What the scheduler asks of the supervisor. */
export interface SchedulingHooks {
  /** Starts a queued worker (it already counts as running). */
  start(entry: Entry): void;
  /** Why a queued worker must not start at all (its run is over its budget), if it must not. */
  barred(entry: Entry): EndReason | undefined;
  /** Ends a queued worker that never started. */
  endUnstarted(entry: Entry, reason: EndReason): void;
}

/**
 * The queue behind the concurrency cap, and the writer lock: queued workers start in order while
 * there is room; a writer whose paths overlap a running writer's, or an earlier queued writer's,
 * keeps its place, and others may go past it.
 */
export class Scheduler {
  private readonly queue: string[] = [];
  private running = 0;
  /** Workers whose files are being written: not in the table yet, but already holding their paths. */
  private readonly creating = new Map<string, WorkerSpec>();

  constructor(
    private readonly table: WorkerTable,
    /** How many workers may run at once. */
    public maxParallel: number,
    private readonly hooks: SchedulingHooks,
  ) {}

  /** True while any worker is queued or running. */
  get busy(): boolean {
    return this.running > 0 || this.queue.length > 0;
  }

  /**
   * Holds a new worker's paths while its files are written (it is not in the table yet), so that a
   * --no-wait writer admitted meanwhile sees it. Taken in the same tick as the admission's check, or
   * two writers sent in one burst would both pass it. Returns the release.
   */
  hold(spec: WorkerSpec): () => void {
    this.creating.set(spec.id, spec);
    return () => this.creating.delete(spec.id);
  }

  /**
   * Puts a worker at the back of the queue (it starts at the next `pump`). A new worker (`inOrder`)
   * goes behind every worker spawned before it, even if their files took longer to write: spawns are
   * served in the order they came.
   */
  enqueue(id: string, inOrder = false): void {
    if (!inOrder) {
      this.queue.push(id);
      return;
    }
    const later = this.queue.findIndex((queued) => idNumber(queued) > idNumber(id));
    if (later < 0) this.queue.push(id);
    else this.queue.splice(later, 0, id);
  }

  /** Takes a worker out of the queue (it was stopped before it started). */
  dequeue(id: string): void {
    const index = this.queue.indexOf(id);
    if (index >= 0) this.queue.splice(index, 1);
  }

  /** The worker's place in the queue, from 1; undefined when it is not queued. */
  position(id: string): number | undefined {
    const index = this.queue.indexOf(id);
    return index >= 0 ? index + 1 : undefined;
  }

  /** A worker found running when the supervisor started (it goes on on a host): it holds a place. */
  adopt(): void {
    this.running += 1;
  }

  /** A started worker ended: its place under the cap is free. */
  ended(): void {
    this.running -= 1;
  }

  /** The unfinished writer that holds a path `scope` wants to write, if any. */
  holderOf(scope: Scope): { id: string; path: string } | undefined {
    const unfinished = this.table
      .all()
      .filter((e) => !isFinal(e.status.state))
      .map((e) => e.spec);
    for (const spec of [...unfinished, ...this.creating.values()]) {
      const clash = conflict(scope, lockScope(spec));
      if (clash) return { id: spec.id, path: clash.heldPath };
    }
    return undefined;
  }

  /**
   * Starts queued workers, in order, while there is room under the cap. A writer whose paths overlap
   * a running writer's, or an earlier queued writer's, keeps its place; others may go past it.
   */
  pump(): void {
    const waiting: (Scope | undefined)[] = [];
    const holders = this.table.all().filter((e) => e.status.state === "running");
    // Writers spawned earlier whose files are still being written come first, as if queued already.
    const creating = [...this.creating.values()];
    for (let i = 0; i < this.queue.length && this.running < this.maxParallel; ) {
      const entry = this.table.find(this.queue[i]!);
      if (entry?.status.state !== "queued") {
        this.queue.splice(i, 1);
        continue;
      }
      const earlier = creating.filter((spec) => idNumber(spec.id) < idNumber(entry.spec.id)).map(lockScope);
      const blocked = [...holders.map((h) => lockScope(h.spec)), ...waiting, ...earlier].some((held) =>
        conflict(lockScope(entry.spec), held),
      );
      if (blocked) {
        waiting.push(lockScope(entry.spec));
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      const barred = this.hooks.barred(entry);
      if (barred) {
        this.hooks.endUnstarted(entry, barred);
        continue;
      }
      this.running += 1;
      this.hooks.start(entry);
      holders.push(entry);
    }
  }
}

const idNumber = (id: string): number => Number(id.slice(1));

/** What a worker holds under the writer lock: nothing when it writes in its own worktree. */
function lockScope(spec: WorkerSpec): Scope | undefined {
  return spec.isolate ? undefined : spec.scope;
}
