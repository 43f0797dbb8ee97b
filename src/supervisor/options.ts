import type { Clock } from "./clock.js";
import type { WorkerRunner } from "./runner.js";

/** How a supervisor is set up; each has a default fit for the daemon. */
export interface SupervisorOptions {
  /** Workers that may run at once. @default 8 */
  readonly maxParallel?: number;
  /** Between Ctrl+C, SIGTERM and SIGKILL when a worker is stopped. @default 3 */
  readonly graceSeconds?: number;
  /** Time: retry backoff, grace periods, watchdogs and waits. @default the real clock */
  readonly clock?: Clock;
  /** Milliseconds to wait before retry `n` (1-based). @default 1 s, 2 s, 4 s, ... capped at 30 s */
  readonly retryDelayMs?: (retry: number) => number;
  /** Where started workers run. @default here, each in a PTY (a workspace on a queue: on its hosts) */
  readonly runner?: WorkerRunner;
  /** The user's price files. @default `.baton/prices.yaml`, then the user config's `prices.yaml` */
  readonly priceFiles?: readonly string[];
}
