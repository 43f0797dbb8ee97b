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
  // A queued worker of a run already over its budget ends over_budget without starting.
  queued: ["running", "canceled", "failed", "over_budget", "lost"],
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

/**
 * The one gate a worker's state passes through: staying put is always allowed (usage, thread id and
 * pid change under one state), a move only where the state union allows it. Returns why not, or
 * undefined when the move is allowed.
 */
export function refusedMove(from: WorkerState, to: WorkerState): string | undefined {
  if (from === to || canMove(from, to)) return undefined;
  const allowed = NEXT[from];
  return `a ${from} worker cannot become ${to} (${allowed.length ? `only ${allowed.join(", ")}` : "it has ended for good"})`;
}
