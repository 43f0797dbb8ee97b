/** Every state a worker can be in. */
export type WorkerState = "queued" | "running" | "succeeded" | "failed" | "canceled" | "timed_out" | "lost";

export const WORKER_STATES: readonly WorkerState[] = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "canceled",
  "timed_out",
  "lost",
];

export type FinalState = Exclude<WorkerState, "queued" | "running">;

const NEXT: Record<WorkerState, readonly WorkerState[]> = {
  queued: ["running", "canceled", "failed", "lost"],
  running: ["succeeded", "failed", "canceled", "timed_out", "lost"],
  succeeded: [],
  failed: [],
  canceled: [],
  timed_out: [],
  lost: [],
};

export const isFinal = (state: WorkerState): state is FinalState => NEXT[state].length === 0;

export const canMove = (from: WorkerState, to: WorkerState): boolean => NEXT[from].includes(to);
