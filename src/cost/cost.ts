import type { Usage } from "../worker/types.js";
import { type PriceTable, priceIn, SHIPPED_PRICES } from "./prices.js";

/**
 * What a worker cost in US dollars, and where the figure came from. Never a silent zero: a worker whose
 * price is not known is `unpriced`, with why.
 */
export type Cost =
  | {
      readonly usd: number;
      /** "agent": the agent's own figure (Claude Code's `total_cost_usd`); else a price table. */
      readonly source: "agent" | "baton" | "user";
      /** The table (its source and date) the price came from, for a table's price. */
      readonly table?: { readonly source: string; readonly date: string; readonly model: string };
    }
  | { readonly usd: undefined; readonly source: "unpriced"; readonly why: string };

export interface CostInput {
  readonly usage: Usage;
  /** The model the agent ran, as it reported it or as it was asked for; undefined: not known. */
  readonly model: string | undefined;
  /** The agent's own figure for the worker, where it reports one. */
  readonly agentUsd?: number | undefined;
  /** The user's own tables, the first that prices the model wins (before the shipped one). */
  readonly userTables?: readonly PriceTable[];
}

/**
 * The cost of a worker's usage. Input tokens count the cached ones too (as codex reports them); those
 * are priced at the cached rate where the table has one.
 */
export function costOf(input: CostInput): Cost {
  if (input.agentUsd !== undefined && Number.isFinite(input.agentUsd) && input.agentUsd >= 0)
    return { usd: input.agentUsd, source: "agent" };
  const { usage, model } = input;
  if (usage.inputTokens === 0 && usage.outputTokens === 0) return { usd: 0, source: "baton" };
  if (!model)
    return {
      usd: undefined,
      source: "unpriced",
      why: "the agent did not say which model it ran: give --model, or price it in .baton/prices.yaml",
    };
  for (const [table, source] of [
    ...(input.userTables ?? []).map((t) => [t, "user"] as const),
    [SHIPPED_PRICES, "baton"] as const,
  ]) {
    const price = priceIn(table, model);
    if (!price) continue;
    const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
    const usd =
      ((usage.inputTokens - cached) * price.input +
        cached * (price.cachedInput ?? price.input) +
        usage.outputTokens * price.output) /
      1_000_000;
    return { usd, source, table: { source: table.source, date: table.date, model: price.model } };
  }
  return {
    usd: undefined,
    source: "unpriced",
    why: `no price for model "${model}": add it to .baton/prices.yaml`,
  };
}

/** A cost for people: `$0.0123`, `$1.50`, or `unpriced`. */
export function costText(cost: Cost | undefined): string {
  if (!cost || cost.usd === undefined) return "unpriced";
  if (cost.usd === 0) return "$0";
  return cost.usd < 0.1 ? `$${cost.usd.toFixed(4)}` : `$${cost.usd.toFixed(2)}`;
}
