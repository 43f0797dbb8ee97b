import { BatonError } from "../errors.js";
import { isFinal } from "../worker/state.js";
import type { WorkerInfo } from "../worker/types.js";
import type { Clock } from "./clock.js";
import type { Entry, WorkerTable } from "./worker-table.js";

export interface WaitResult {
  readonly workers: readonly WorkerInfo[];
  readonly timedOut: boolean;
}

/** Longest a timer can be set for (setTimeout's limit). */
const LONGEST_WAIT_MS = 2_147_483_647;

/**
 * Stops one worker gracefully and resolves once its end is recorded. A queued one ends at once
 * (`cancelQueued`); a running one gets Ctrl+C, then SIGTERM after `graceMs`, then SIGKILL; one
 * waiting to retry, or whose agent is not started yet, never starts.
 */
export async function stopWorker(
  entry: Entry,
  graceMs: number | undefined,
  cancelQueued: (entry: Entry) => Promise<void>,
): Promise<void> {
  entry.halt.abort();
  if (entry.status.state === "queued") {
    await cancelQueued(entry);
    return;
  }
  void entry.run?.stop(graceMs);
  await entry.settled;
}

/**
 * Waits until `entries` end (all of them, or the first with `any`), `timeoutMs` passes, or `signal`
 * aborts. Woken by the table's `ended` bell, never by polling.
 */
export async function waitFor(
  table: WorkerTable,
  entries: readonly Entry[],
  params: { any?: boolean; timeoutMs?: number },
  clock: Clock,
  info: (entry: Entry) => WorkerInfo,
  signal?: AbortSignal,
): Promise<WaitResult> {
  const done = () =>
    params.any && entries.length > 0
      ? entries.some((e) => isFinal(e.status.state))
      : entries.every((e) => isFinal(e.status.state));
  const deadline = params.timeoutMs === undefined ? Number.POSITIVE_INFINITY : clock.now() + params.timeoutMs;
  while (!done()) {
    if (signal?.aborted) throw new BatonError("aborted", "wait was aborted");
    const left = deadline - clock.now();
    if (left <= 0) return { workers: entries.map(info), timedOut: true };
    await table.ended.wait(clock, Math.min(left, LONGEST_WAIT_MS), signal);
  }
  return { workers: entries.map(info), timedOut: false };
}
