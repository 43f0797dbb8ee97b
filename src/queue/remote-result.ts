import type { Clock } from "../supervisor/clock.js";
import { endedWithout, STOPPED } from "../supervisor/results.js";
import type { StopCause } from "../supervisor/run-end.js";
import type { Entry } from "../supervisor/worker-table.js";
import type { Usage, WorkerResult } from "../worker/types.js";
import type { Placement } from "./placements.js";
import type { RemoteParts, RemoteRun } from "./remote-run.js";
import { plus } from "./remote-usage.js";
import { type JobOutcome, readOutcome } from "./wire.js";

// A remote worker's result as the coordinator records it, from what its job returned.

/** What the result of a completed job is made from. */
export interface CompletedJob {
  readonly entry: Entry;
  readonly outcome: JobOutcome;
  readonly placement: Placement | undefined;
  /** Usage of the host runs that were lost before this one. */
  readonly priorUsage: Usage;
  /** Why the coordinator stopped it, if it did. */
  readonly cause: Exclude<StopCause, { kind: "user" }> | undefined;
  /** The writer's change, brought home when it could be (see {@link landed}). */
  readonly isolation: WorkerResult["isolation"];
}

/** The worker's result: the host's, with the coordinator's id, usage over every run, and placement. */
export function completedResult(job: CompletedJob): WorkerResult {
  const { entry, outcome, placement, cause, isolation } = job;
  const { result } = outcome;
  const where = {
    host: outcome.host,
    lostHosts: placement?.lostHosts ?? [],
    ...(placement?.resumed ? { resumed: placement.resumed } : {}),
  };
  const overBudget = cause?.kind === "budget" && result.state === "canceled";
  return {
    ...result,
    ...(isolation ? { isolation } : {}),
    id: entry.spec.id,
    label: entry.spec.label,
    role: entry.spec.role,
    usage: plus(job.priorUsage, result.usage),
    resumes: entry.status.resumes,
    placement: where,
    ...(overBudget ? { state: "over_budget" as const, reason: cause.reason } : {}),
  };
}

/** A writer's change brought home (git-remote mode); one that cannot be is reported, its branch left on the remote. */
export async function landed(
  id: string,
  isolation: WorkerResult["isolation"],
  parts: Pick<RemoteParts, "landChange" | "context">,
): Promise<WorkerResult["isolation"]> {
  if (!isolation?.commit || !parts.landChange) return isolation;
  try {
    return await parts.landChange(isolation);
  } catch (error) {
    parts.context.problems.add(
      `worker ${id}: its change (${isolation.branch} on the git remote) cannot be fetched: ${(error as Error).message}`,
    );
    return isolation;
  }
}

/** A completed job's return value settles its worker: its result, or why it has none. */
export function settle(remote: RemoteRun, returnvalue: unknown): Promise<void> {
  const outcome = readOutcome(returnvalue);
  if (typeof outcome !== "string") return remote.complete(outcome);
  remote.fail(outcome);
  return Promise.resolve();
}

/** The result of a worker whose job failed on its host before it had one. */
export function failedOnHost(
  entry: Entry,
  reason: string,
  so: { readonly usage: Usage; readonly threadId: string | undefined },
  clock: Clock,
): WorkerResult {
  const message = `on its host: ${reason}`;
  return {
    ...endedWithout(entry.spec, "failed", { kind: "spawn_failed", message }, clock),
    usage: so.usage,
    threadId: so.threadId,
    resumes: entry.status.resumes,
  };
}

/** The result of a worker stopped while its job waited for a host (it never ran). */
export function stoppedWaiting(
  entry: Entry,
  cause: Exclude<StopCause, { kind: "user" }> | undefined,
  usage: Usage,
  clock: Clock,
): WorkerResult {
  const budget = cause?.kind === "budget" ? cause : undefined;
  return {
    ...endedWithout(entry.spec, budget ? "over_budget" : "canceled", budget ? budget.reason : STOPPED, clock),
    usage,
    resumes: entry.status.resumes,
  };
}
