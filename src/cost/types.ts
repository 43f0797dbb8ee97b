/**
 * What a worker cost in US dollars, and where the figure came from. Never a silent zero: a worker whose
 * price is not known is `unpriced`, with why.
 */
export type Cost =
  | {
      readonly usd: number;
      /**
       * "agent": the agent's own figure (Claude Code's `total_cost_usd`); "user" or "baton": a price
       * table's (the user's `prices.yaml`, or the one Baton ships).
       */
      readonly source: "agent" | "baton" | "user";
      /**
       * The table (its source and date) the price came from. On an agent's figure: the table that priced
       * what the agent gave no figure for (an attempt stopped in the middle of its turn).
       */
      readonly table?: { readonly source: string; readonly date: string; readonly model: string };
    }
  | { readonly usd: undefined; readonly source: "unpriced"; readonly why: string };
