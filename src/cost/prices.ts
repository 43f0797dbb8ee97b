/** What a million tokens of a model cost, in US dollars. */
export interface ModelPrice {
  /** The model's name, or the start of it: `claude-sonnet-4-5` also prices `claude-sonnet-4-5-20250929`. */
  readonly model: string;
  readonly input: number;
  /** Input read from the provider's prompt cache. @default input */
  readonly cachedInput?: number;
  readonly output: number;
}

/** A table of prices, with where it came from: what a cost says its price came from. */
export interface PriceTable {
  /** Where the prices were read, for people (a URL, or a file). */
  readonly source: string;
  /** When they were read (YYYY-MM-DD). */
  readonly date: string;
  readonly models: readonly ModelPrice[];
}

/**
 * The list prices Baton ships with, per million tokens. Providers change them: a user's own table
 * (`.baton/prices.yaml`, or `prices.yaml` in the user config folder) wins over this one, and every
 * cost names the table and date it came from.
 */
export const SHIPPED_PRICES: PriceTable = {
  source:
    "the providers' API pricing pages (openai.com/api/pricing, claude.com/pricing, ai.google.dev/gemini-api/docs/pricing), as published",
  date: "2026-06-30",
  models: [
    // OpenAI (codex)
    { model: "gpt-5.5-pro", input: 30, output: 180 },
    { model: "gpt-5.5", input: 5, cachedInput: 0.5, output: 30 },
    { model: "gpt-5.4-pro", input: 30, output: 180 },
    { model: "gpt-5.4-mini", input: 0.75, cachedInput: 0.075, output: 4.5 },
    { model: "gpt-5.4-nano", input: 0.2, cachedInput: 0.02, output: 1.25 },
    { model: "gpt-5.4", input: 2.5, cachedInput: 0.25, output: 15 },
    { model: "gpt-5.2", input: 1.75, cachedInput: 0.175, output: 14 },
    { model: "gpt-5-mini", input: 0.25, cachedInput: 0.025, output: 2 },
    { model: "gpt-5-nano", input: 0.05, cachedInput: 0.005, output: 0.4 },
    { model: "gpt-5-codex", input: 1.25, cachedInput: 0.125, output: 10 },
    { model: "gpt-5", input: 1.25, cachedInput: 0.125, output: 10 },
    // Anthropic (Claude Code reports its own cost; these price what it does not)
    { model: "claude-opus-4-5", input: 5, cachedInput: 0.5, output: 25 },
    { model: "claude-opus-4-1", input: 15, cachedInput: 1.5, output: 75 },
    { model: "claude-sonnet-4-5", input: 3, cachedInput: 0.3, output: 15 },
    { model: "claude-sonnet-4", input: 3, cachedInput: 0.3, output: 15 },
    { model: "claude-haiku-4-5", input: 1, cachedInput: 0.1, output: 5 },
    // Google (Gemini CLI)
    { model: "gemini-2.5-pro", input: 1.25, cachedInput: 0.125, output: 10 },
    { model: "gemini-2.5-flash-lite", input: 0.1, cachedInput: 0.01, output: 0.4 },
    { model: "gemini-2.5-flash", input: 0.3, cachedInput: 0.03, output: 2.5 },
  ],
};

/** The price of `model` in `table`: its own entry, else the longest entry it starts with. */
export function priceIn(table: PriceTable, model: string): ModelPrice | undefined {
  const name = model.toLowerCase();
  let best: ModelPrice | undefined;
  for (const entry of table.models) {
    const key = entry.model.toLowerCase();
    if (name === key) return entry;
    // A dated or suffixed release of a priced model: `claude-sonnet-4-5-20250929`, `gpt-5-2025-08-07`.
    if (
      name.startsWith(`${key}-`) &&
      /^-[0-9]/.test(name.slice(key.length)) &&
      key.length > (best?.model.length ?? 0)
    )
      best = entry;
  }
  return best;
}
