import { type EndReason, totalTokens } from "../worker/types.js";
import type { WorkerRun } from "./worker-run.js";
import type { Entry, WorkerTable } from "./worker-table.js";

type BudgetReason = Extract<EndReason, { kind: "budget" }>;

/**
 * Token budgets: a worker's own (`--max-tokens`, input and output over every attempt) and a run's
 * (`--run-max-tokens`, its workers together). Crossing either stops the worker in the middle of its
 * turn; a run over its budget stops all its workers and starts no new one.
 */
export class Budgets {
  /** Token budgets of runs (worker groups), by run id. */
  private readonly runs = new Map<string, number>();

  constructor(private readonly table: WorkerTable) {}

  /** A run's budget, as a spawn (or a stored worker of the run) gives it. */
  setRun(run: string, maxTokens: number | undefined): void {
    if (maxTokens !== undefined) this.runs.set(run, maxTokens);
  }

  /** Whether a run's workers together have used more than its budget. */
  runOver(run: string): BudgetReason | undefined {
    const limit = this.runs.get(run);
    if (limit === undefined) return undefined;
    let used = 0;
    for (const entry of this.table.all()) {
      if (entry.spec.group?.id === run) used += totalTokens(entry.run ? entry.run.usage : entry.status.usage);
    }
    return used > limit ? { kind: "budget", scope: "run", limit, used } : undefined;
  }

  /** The budget `run`'s usage has crossed: the worker's own first, then its run's. */
  over(entry: Entry, run: WorkerRun): BudgetReason | undefined {
    const { maxTokens, group } = entry.spec;
    const used = totalTokens(run.usage);
    if (maxTokens !== undefined && used > maxTokens)
      return { kind: "budget", scope: "worker", limit: maxTokens, used };
    return group ? this.runOver(group.id) : undefined;
  }

  /** Stops a worker that crossed its budget; a run's budget stops every worker of that run. */
  enforce(entry: Entry, run: WorkerRun): void {
    const reason = this.over(entry, run);
    if (reason === undefined) return;
    if (reason.scope === "worker") {
      void run.stopFor({ kind: "budget", reason });
      return;
    }
    for (const other of this.table.all()) {
      if (other.spec.group?.id !== entry.spec.group?.id) continue;
      if (other.run) void other.run.stopFor({ kind: "budget", reason });
    }
  }
}
