import type { AgentOutcome } from "../backend/backend.js";
import type { FinalState } from "../worker/state.js";
import type { EndReason } from "../worker/types.js";

/**
 * How long an agent that has given its answer (its turn completed) may stay, silent, before Baton
 * stops it and keeps the answer (or less, under a shorter idle timeout). Over 16,000 codex workers, up
 * to 64 at once on 2 cores, the slowest exit after the turn's end took 2.3 s. Now and then none comes
 * (4 runs in 10,808 in one count, 1 in 384 in another): codex 0.169 stays, ignoring Ctrl+C, until
 * stopped (it once held a worker 600 s, until the idle timeout ran the task again).
 */
export const EXIT_AFTER_ANSWER_SECONDS = 5;
/** Such an agent gets Ctrl+C, then SIGTERM this much later: its answer is in already. */
export const EXIT_AFTER_ANSWER_GRACE_MS = 1000;

/** Why Baton itself ended the worker. */
export type StopCause =
  | { readonly kind: "user" }
  | { readonly kind: "timeout"; readonly reason: EndReason }
  | { readonly kind: "budget"; readonly reason: EndReason }
  /** The agent gave its answer, then neither ended nor printed anything (see `WorkerRun`). */
  | { readonly kind: "answered"; readonly seconds: number };

/**
 * How an attempt ended: Baton's own stop decides first (a limit, or the user), then the agent's
 * outcome and exit; an interrupted agent that did not succeed was canceled, not failed. An agent Baton
 * stopped after its answer ends as that answer says: the signal that ended it was Baton's, and it
 * came after the work was done.
 */
export function endOf(
  stopping: StopCause | undefined,
  outcome: Pick<AgentOutcome, "ok" | "error">,
  exit: { readonly exitCode: number; readonly signal: number | undefined },
  interrupted: boolean,
): { state: FinalState; reason: EndReason | undefined } {
  if (stopping?.kind === "timeout") return { state: "timed_out", reason: stopping.reason };
  if (stopping?.kind === "budget") return { state: "over_budget", reason: stopping.reason };
  if (stopping?.kind === "user")
    return { state: "canceled", reason: { kind: "stopped", by: "user", via: "stop" } };
  const answered = stopping?.kind === "answered";
  if (outcome.ok && (!exit.signal || answered)) return { state: "succeeded", reason: undefined };
  if (interrupted && !answered)
    return { state: "canceled", reason: { kind: "stopped", by: "user", via: "interrupt" } };
  const { exitCode, signal } = exit;
  return {
    state: "failed",
    reason: signal
      ? { kind: "signal", signal }
      : { kind: "exit", exitCode, ...(outcome.error ? { message: capped(outcome.error) } : {}) },
  };
}

/** How much of an agent's own failure message a result keeps; all of it stays in the transcript. */
export const REASON_CHARS = 2000;

function capped(message: string): string {
  if (message.length <= REASON_CHARS) return message;
  const more = message.length - REASON_CHARS;
  return `${message.slice(0, REASON_CHARS)}… (${more} more characters: \`baton logs ID --raw\` has them all)`;
}
