import type { AttemptContext } from "../supervisor/attempts.js";
import type { Entry, RunHandle } from "../supervisor/worker-table.js";
import type { EndReason, Usage } from "../worker/types.js";

type BudgetReason = Extract<EndReason, { kind: "budget" }>;

// A remote worker's usage is its hosts' runs' together; its budgets are checked on the coordinator,
// where the run's other workers are.

export function plus(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningOutputTokens: a.reasoningOutputTokens + b.reasoningOutputTokens,
  };
}

/**
 * The budget `usage` crossed, if any, and the runs to stop for it: the worker's own token budget (the
 * worker alone), else its run's (every worker of the run, the workspace-wide figure).
 */
export function budgetCrossed(
  entry: Entry,
  usage: Usage,
  context: Pick<AttemptContext, "budgets" | "table">,
): { readonly reason: BudgetReason; readonly runs: readonly RunHandle[] } | undefined {
  const { maxTokens, group } = entry.spec;
  const used = usage.inputTokens + usage.outputTokens;
  if (maxTokens !== undefined && used > maxTokens) {
    const run = entry.run;
    return { reason: { kind: "budget", scope: "worker", limit: maxTokens, used }, runs: run ? [run] : [] };
  }
  const over = group ? context.budgets.runOver(group.id) : undefined;
  if (!over) return undefined;
  const runs = context.table
    .all()
    .flatMap((other) => (other.spec.group?.id === group?.id && other.run ? [other.run] : []));
  return { reason: over, runs };
}
