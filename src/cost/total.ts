import { count } from "../render/numbers.js";
import { totalTokens, type Usage } from "../worker/types.js";
import { usdText } from "./cost.js";
import type { Cost } from "./types.js";

/** What several workers (a run's) used and cost together. */
export interface Spent {
  readonly workers: number;
  readonly tokens: number;
  /** The dollars of the workers that have a price. */
  readonly usd: number;
  /** Workers that could not be priced: left out of `usd`, and named, so the sum never reads as whole. */
  readonly unpriced: readonly string[];
}

/** The tokens and dollars of `workers` together (a worker that never ran costs nothing). */
export function totalSpent(
  workers: readonly { readonly id: string; readonly usage: Usage; readonly cost?: Cost | undefined }[],
): Spent {
  let tokens = 0;
  let usd = 0;
  const unpriced: string[] = [];
  for (const worker of workers) {
    tokens += totalTokens(worker.usage);
    if (worker.cost?.usd !== undefined) usd += worker.cost.usd;
    else if (worker.cost) unpriced.push(worker.id);
  }
  return { workers: workers.length, tokens, usd, unpriced };
}

/** `3 workers, 12,345 tokens, $0.0456`; with `(w3 unpriced)` or `unpriced` where prices are missing. */
export function spentText(spent: Spent): string {
  const n = `${spent.workers} worker${spent.workers === 1 ? "" : "s"}`;
  const tokens = `${count(spent.tokens)} token${spent.tokens === 1 ? "" : "s"}`;
  const { unpriced } = spent;
  const dollars =
    unpriced.length === 0
      ? usdText(spent.usd)
      : unpriced.length === spent.workers
        ? "unpriced"
        : `${usdText(spent.usd)} (${unpriced.join(", ")} unpriced, not counted)`;
  return `${n}, ${tokens}, ${dollars}`;
}
