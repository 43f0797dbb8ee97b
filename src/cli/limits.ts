import type { Command } from "commander";
import { MAX_COST_BUDGET_USD, MAX_RETRIES } from "../protocol/limits.js";
import { nonNegativeInteger, positiveInteger, positiveNumber } from "./context.js";

/** The watchdog and budget flags every command that starts workers takes. */
export function addLimitOptions(command: Command): Command {
  return command
    .option(
      "--idle-timeout <seconds>",
      "stop a worker after this long with no output and no events (default 600)",
      positiveNumber("--idle-timeout"),
    )
    .option(
      "--max-tokens <n>",
      "stop a worker once it has used more tokens than this (input + output, retries included)",
      positiveInteger("--max-tokens"),
    )
    .option(
      "--max-cost <usd>",
      "stop a worker once it has cost more than this many US dollars (retries included; needs a price: --model or .baton/prices.yaml)",
      dollars("--max-cost"),
    )
    .option(
      "--retries <n>",
      `re-run a worker after a transient failure (model 5xx, a model that never answers), 0 to ${MAX_RETRIES} (default 2)`,
      nonNegativeInteger("--retries"),
    );
}

/** The limits given on the command line, as spawn options. */
export function limitSettings(opts: Record<string, unknown>): {
  idleTimeoutSeconds?: number;
  maxTokens?: number;
  maxCostUsd?: number;
  retries?: number;
} {
  return {
    ...(typeof opts.idleTimeout === "number" ? { idleTimeoutSeconds: opts.idleTimeout } : {}),
    ...(typeof opts.maxTokens === "number" ? { maxTokens: opts.maxTokens } : {}),
    ...(typeof opts.maxCost === "number" ? { maxCostUsd: opts.maxCost } : {}),
    ...(typeof opts.retries === "number" ? { retries: opts.retries } : {}),
  };
}

/** A commander parser for a dollar amount (`0.50`, or `$0.50` as quoted in a shell). */
export function dollars(flag: string): (value: string) => number {
  const parse = positiveNumber(flag, MAX_COST_BUDGET_USD);
  return (value) => parse(value.replace(/^\s*\$/, ""));
}
