import { readAgentFile } from "../backend/untrusted-file.js";
import { BatonError } from "../errors.js";
import type { Store } from "../store/store.js";
import { type FinalState, isFinal } from "../worker/state.js";
import { type EndReason, type WorkerResult, type WorkerSpec, ZERO_USAGE } from "../worker/types.js";
import { type Clock, isoNow } from "./clock.js";
import type { Problems } from "./problems.js";
import type { Entry } from "./worker-table.js";

/** The result of a worker that ended before its agent ran. */
export function endedWithout(
  spec: WorkerSpec,
  state: FinalState,
  reason: EndReason,
  clock: Clock,
): WorkerResult {
  return {
    id: spec.id,
    label: spec.label,
    role: spec.role,
    state,
    answer: "",
    answerSource: "none",
    answerMismatch: false,
    exitCode: undefined,
    durationMs: 0,
    usage: ZERO_USAGE,
    retries: 0,
    resumes: 0,
    threadId: undefined,
    reason,
    endedAt: isoNow(clock),
  };
}

/** The reason of a worker stopped by `baton stop`. */
export const STOPPED: EndReason = { kind: "stopped", by: "user", via: "stop" };

/** Writes the worker's result. If the store refuses, it is kept in memory, reported, and retried at close. */
export async function recordResult(store: Store, problems: Problems, entry: Entry): Promise<void> {
  if (!entry.result) return;
  try {
    await store.writeResult(entry.result);
  } catch (error) {
    entry.unrecorded = true;
    problems.add(`worker ${entry.spec.id}: its result is held in memory only: ${(error as Error).message}`);
  }
}

/**
 * What `baton result` serves: the recorded result; for a lost worker, which has none (so that a later
 * resume can still write one), its status and whatever answer its agent left.
 */
export function resultOf(store: Store, entry: Entry): WorkerResult {
  const { id } = entry.spec;
  if (entry.result) return entry.result;
  if (entry.resultDamage) {
    throw new BatonError(
      "store",
      `the result of worker ${id} cannot be read: ${entry.resultDamage}: its output is still in \`baton logs ${id}\``,
    );
  }
  const { state } = entry.status;
  if (!isFinal(state)) {
    throw new BatonError(
      "not_finished",
      `worker ${id} is still ${state}: wait for it with \`baton wait ${id}\``,
    );
  }
  return {
    id,
    label: entry.spec.label,
    role: entry.spec.role,
    state,
    answer: readAgentFile(store.file(id, "last-message.txt")) ?? "",
    answerSource: "none",
    answerMismatch: false,
    exitCode: entry.status.exitCode,
    durationMs: 0,
    usage: entry.status.usage,
    retries: entry.status.retries,
    resumes: entry.status.resumes,
    threadId: entry.status.threadId,
    reason: entry.status.reason,
    endedAt: entry.status.endedAt ?? entry.status.updatedAt,
    ...(entry.status.model ? { model: entry.status.model } : {}),
    ...(entry.status.cost ? { cost: entry.status.cost } : {}),
  };
}
