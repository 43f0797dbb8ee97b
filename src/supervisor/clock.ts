/**
 * Time as the supervisor sees it. The real one by default; a test passes a clock it moves by hand, so
 * that a 4-second retry backoff or a 3-second grace period takes no real time (zx makes `spawn` an
 * option for the same reason).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once `ms` have passed; the function returned cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/** The machine's own time. */
export const realClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/** Resolves once `ms` have passed on `clock`, or at once when `signal` aborts; never rejects. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    let cancel = () => {};
    const done = () => {
      cancel();
      signal?.removeEventListener("abort", done);
      resolve();
    };
    cancel = clock.after(ms, done);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** The clock's time as an ISO string, as status and result files record it. */
export function isoNow(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
