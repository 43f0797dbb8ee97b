import { backendNamed } from "../backend/registry.js";
import { type EndReason, totalTokens, type WorkerSpec } from "../worker/types.js";
import type { Problems } from "./problems.js";
import type { WorkerRun } from "./worker-run.js";
import type { Entry, WorkerTable } from "./worker-table.js";

type BudgetReason = Extract<EndReason, { kind: "budget" }>;
type RunBudget = { readonly maxTokens?: number | undefined; readonly maxCostUsd?: number | undefined };

/**
 * Token and dollar budgets: a worker's own (`--max-tokens`, `--max-cost`: over every attempt) and a
 * run's (`--run-max-tokens`, `--run-max-cost`: its workers together). Crossing any stops the worker in
 * the middle of its turn; a run over a budget stops all its workers and starts no new one.
 */
export class Budgets {
  /** Budgets of runs (worker groups), by run id. */
  private readonly runs = new Map<string, RunBudget>();
  /** Workers under a cost budget whose cost lost its price, told of once. */
  private readonly unpriced = new Set<string>();

  constructor(
    private readonly table: WorkerTable,
    private readonly problems: Problems,
  ) {}

  /** A run's budgets, as a spawn (or a stored worker of the run) gives them. */
  setRun(run: string, budget: RunBudget): void {
    const known = this.runs.get(run) ?? {};
    this.runs.set(run, {
      maxTokens: budget.maxTokens ?? known.maxTokens,
      maxCostUsd: budget.maxCostUsd ?? known.maxCostUsd,
    });
  }

  /** Whether a run's workers together have used more tokens or dollars than its budget. */
  runOver(run: string): BudgetReason | undefined {
    const budget = this.runs.get(run);
    if (!budget) return undefined;
    let tokens = 0;
    let usd = 0;
    for (const entry of this.table.all()) {
      if (entry.spec.group?.id !== run) continue;
      tokens += totalTokens(entry.run ? entry.run.usage : entry.status.usage);
      usd += entry.status.cost?.usd ?? 0; // moved with every change of its usage, before this check
    }
    const { maxTokens, maxCostUsd } = budget;
    if (maxTokens !== undefined && tokens > maxTokens)
      return { kind: "budget", scope: "run", limit: maxTokens, used: tokens };
    if (maxCostUsd !== undefined && usd > maxCostUsd)
      return { kind: "budget", scope: "run", limit: maxCostUsd, used: usd, unit: "usd" };
    return undefined;
  }

  /** The budget `run`'s usage has crossed: the worker's own first, then its run's. */
  over(entry: Entry, run: WorkerRun): BudgetReason | undefined {
    const { maxTokens, maxCostUsd, group } = entry.spec;
    const used = totalTokens(run.usage);
    if (maxTokens !== undefined && used > maxTokens)
      return { kind: "budget", scope: "worker", limit: maxTokens, used };
    const cost = run.spend.cost;
    if (maxCostUsd !== undefined && cost?.usd !== undefined && cost.usd > maxCostUsd)
      return { kind: "budget", scope: "worker", limit: maxCostUsd, used: cost.usd, unit: "usd" };
    if (cost?.source === "unpriced") this.priceLost(entry.spec, cost.why);
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

  /**
   * A worker under a cost budget was admitted with a price, but the model its agent says it runs has
   * none: the budget cannot count it. Said once, as a problem that `ls` shows, never passed over.
   */
  private priceLost(spec: WorkerSpec, why: string): void {
    const budgeted = spec.maxCostUsd !== undefined || spec.group?.maxCostUsd !== undefined;
    if (!budgeted || this.unpriced.has(spec.id)) return;
    // An agent that prices itself (Claude Code) is counted at the end of its turn all the same.
    if (backendNamed(spec.backend).reportsCost) return;
    this.unpriced.add(spec.id);
    this.problems.add(
      `worker ${spec.id}: its cost budget cannot count it: ${why}; it runs on until its other limits`,
    );
  }
}
