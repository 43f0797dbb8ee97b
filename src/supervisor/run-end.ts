import type { AgentOutcome } from "../backend/backend.js";
import type { FinalState } from "../worker/state.js";
import type { EndReason } from "../worker/types.js";

/** Why Baton itself ended the worker. */
export type StopCause =
  | { readonly kind: "user" }
  | { readonly kind: "timeout"; readonly reason: EndReason }
  | { readonly kind: "budget"; readonly reason: EndReason };

/**
 * How an attempt ended: Baton's own stop decides first (a limit, or the user), then the agent's
 * outcome and exit; an interrupted agent that did not succeed was canceled, not failed.
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
  if (outcome.ok && !exit.signal) return { state: "succeeded", reason: undefined };
  if (interrupted) return { state: "canceled", reason: { kind: "stopped", by: "user", via: "interrupt" } };
  const { exitCode, signal } = exit;
  return {
    state: "failed",
    reason: signal
      ? { kind: "signal", signal }
      : { kind: "exit", exitCode, ...(outcome.error ? { message: outcome.error } : {}) },
  };
}
