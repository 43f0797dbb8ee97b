import { addCost, type Cost, costOf } from "../cost/cost.js";
import { totalTokens, type Usage } from "../worker/types.js";
import { minusUsage } from "./run-usage.js";

/** Prices tokens of a model: the user's tables before the one Baton ships. */
export type Pricer = (usage: Usage, model: string | undefined) => Cost;

/** Baton's own table alone: for a run set up with no user prices (tests of parts). */
export const shippedPricer: Pricer = (usage, model) => costOf({ usage, model });

/**
 * A worker's cost over its attempts, live as this attempt's usage grows: the agent's own figure where
 * it gives one (Claude Code's running total for its thread, less what the thread had cost before this
 * attempt), with what it used since priced by model; else its usage priced by model. Added to what the
 * earlier attempts cost.
 */
export class CostMeter {
  /** The agent's running total for the thread, as last reported (at first, what it was before). */
  threadUsd: number | undefined;
  /** This attempt's own figure from the agent, and the usage of the attempt it covers. */
  private agent: { readonly usd: number; readonly covered: Usage } | undefined;

  constructor(
    private readonly prior: Cost | undefined,
    /** The thread's total before this attempt (a follow-up's parent's, a resumed worker's last). */
    private readonly baselineUsd: number | undefined,
    private readonly price: Pricer,
  ) {
    this.threadUsd = baselineUsd;
  }

  /** The agent's figure for its whole thread, when a turn ended; `attempt`: the attempt's usage by then. */
  agentFigure(threadUsd: number, attempt: Usage): void {
    this.threadUsd = threadUsd;
    this.agent = { usd: Math.max(0, threadUsd - (this.baselineUsd ?? 0)), covered: attempt };
  }

  /** The worker's cost so far, this attempt having used `attempt` of `model`. */
  cost(attempt: Usage, model: string | undefined): Cost | undefined {
    if (!this.agent) return addCost(this.prior, this.price(attempt, model));
    const own: Cost = { usd: this.agent.usd, source: "agent" };
    const since = minusUsage(attempt, this.agent.covered);
    return addCost(this.prior, totalTokens(since) > 0 ? addCost(own, this.price(since, model)) : own);
  }
}
