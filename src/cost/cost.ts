import type { Usage } from "../worker/types.js";
import { type PriceTable, priceIn, SHIPPED_PRICES } from "./prices.js";
import type { Cost } from "./types.js";

export type { Cost } from "./types.js";

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
  return usdText(cost.usd);
}

/** US dollars for people: `$0`, `$0.0123` under ten cents, `$1.50` above. */
export function usdText(usd: number): string {
  if (usd === 0) return "$0";
  return usd < 0.1 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/**
 * Two costs together (two attempts of a worker, or two workers of a run). Unpriced if either is: a sum
 * with a part left out would read as the whole. A zero with no table (no tokens used) adds nothing; an
 * agent's figure with a table's price keeps the agent as its source and names the table.
 */
export function addCost(a: Cost | undefined, b: Cost | undefined): Cost | undefined {
  if (!a || isNothing(a)) return b;
  if (!b || isNothing(b)) return a;
  if (a.usd === undefined) return a;
  if (b.usd === undefined) return b;
  const usd = a.usd + b.usd;
  const table = b.table ?? a.table;
  const source = a.source === "agent" || b.source === "agent" ? "agent" : b.source;
  return table ? { usd, source, table } : { usd, source };
}

/** Costs nothing and names no price: what a worker that used no tokens costs. */
const isNothing = (cost: Cost): boolean => cost.usd === 0 && cost.source !== "agent" && !cost.table;
