import type { Clock } from "../../dist/supervisor/clock.js";

/**
 * A clock that moves only when the test says: `advance(ms)` runs each timer that falls due, in order.
 * What Baton waits for (a retry's backoff, a stop's grace period, a watchdog) then takes no real time.
 */
export class ManualClock implements Clock {
  private time = Date.now();
  private next = 0;
  private readonly timers = new Map<number, { readonly at: number; readonly fn: () => void }>();

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): () => void {
    const id = this.next++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return () => this.timers.delete(id);
  }

  /** Moves time on by `ms`, running each timer that falls due meanwhile, earliest first. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const timer of this.timers)
        if (timer[1].at <= end && (!due || timer[1].at < due[1].at)) due = timer;
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
    }
    this.time = end;
  }

  /** How far ahead each timer set now falls due, in ms, soonest first. */
  get pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }
}
