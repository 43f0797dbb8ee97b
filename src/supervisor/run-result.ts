import type { AgentOutcome } from "../backend/backend.js";
import type { SweepReport } from "../confine/index.js";
import { redact } from "../store/redact.js";
import type { FinalState } from "../worker/state.js";
import type { EndReason, Usage, WorkerResult, WorkerSpec } from "../worker/types.js";
import { type Clock, isoNow } from "./clock.js";

/** How an attempt ended. */
export interface AttemptEnd {
  readonly state: FinalState;
  readonly reason: EndReason | undefined;
  /** What the agent's events and exit told; none if it never started. */
  readonly outcome: AgentOutcome | undefined;
  readonly exitCode: number | undefined;
}

/** What the run knew of the attempt by then. */
export interface AttemptRecord {
  /** Redacted from the answer. */
  readonly secrets: readonly string[];
  readonly startedAt: number;
  readonly clock: Clock;
  /** Over every attempt so far. */
  readonly usage: Usage;
  readonly threadId: string | undefined;
  readonly spent: Pick<WorkerResult, "model" | "cost" | "threadUsd">;
  readonly outsideScope: SweepReport | undefined;
}

/** An attempt's result, its answer redacted (its retries and resumes are counted by the caller). */
export function attemptResult(spec: WorkerSpec, end: AttemptEnd, run: AttemptRecord): WorkerResult {
  const { outcome } = end;
  return {
    id: spec.id,
    label: spec.label,
    role: spec.role,
    state: end.state,
    answer: redact(outcome?.answer ?? "", run.secrets),
    answerSource: outcome?.answerSource ?? "none",
    answerMismatch: outcome?.answerMismatch ?? false,
    exitCode: end.exitCode,
    durationMs: run.clock.now() - run.startedAt,
    usage: run.usage,
    retries: 0,
    resumes: 0,
    threadId: run.threadId,
    reason: end.reason,
    endedAt: isoNow(run.clock),
    ...run.spent,
    confinement: spec.confinement,
    ...(run.outsideScope ? { outsideScope: run.outsideScope } : {}),
  };
}
