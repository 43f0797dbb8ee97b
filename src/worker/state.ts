/** Every state a worker can be in. */
export type WorkerState =
  | "queued"
  | "running"
  | "succeeded"
  | "failed"
  | "canceled"
  | "timed_out"
  | "over_budget"
  | "lost";

export const WORKER_STATES: readonly WorkerState[] = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "canceled",
  "timed_out",
  "over_budget",
  "lost",
];

export type FinalState = Exclude<WorkerState, "queued" | "running">;

const NEXT: Record<WorkerState, readonly WorkerState[]> = {
  queued: ["running", "canceled", "failed", "lost"],
  running: ["succeeded", "failed", "canceled", "timed_out", "over_budget", "lost"],
  succeeded: [],
  failed: [],
  canceled: [],
  timed_out: [],
  over_budget: [],
  // `baton resume` queues a lost worker again; no other final state ever moves.
  lost: ["queued"],
};

/** The worker has ended (a lost one may still be resumed, but nothing runs for it). */
export const isFinal = (state: WorkerState): state is FinalState => state !== "queued" && state !== "running";

export const canMove = (from: WorkerState, to: WorkerState): boolean => NEXT[from].includes(to);
