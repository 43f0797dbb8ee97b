import { type Clock, sleep } from "./clock.js";

/**
 * A typed wake-up in place of string-keyed emitter events: `ring` wakes whoever waits on it now.
 * Each worker has one (output arrived, or it ended) and the table one more (some worker ended).
 */
export class Bell {
  private readonly waiters = new Set<() => void>();

  ring(): void {
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiting) wake();
  }

  /** Resolves at the next ring, once `ms` have passed on `clock`, or when `signal` aborts. */
  async wait(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
    const rung = new AbortController();
    const wake = () => rung.abort();
    this.waiters.add(wake);
    try {
      await sleep(clock, ms, signal ? AbortSignal.any([signal, rung.signal]) : rung.signal);
    } finally {
      this.waiters.delete(wake);
    }
  }
}
