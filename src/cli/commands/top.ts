import type { Command } from "commander";
import type { GlobalOptions } from "../context.js";

// What `baton top` does is in ../actions/top.ts, loaded only when it runs (with Ink and React).
const action = () => import("../actions/top.js");

export function registerTop(program: Command, global: () => GlobalOptions): void {
  program
    .command("top")
    .description(
      "a live dashboard of the plan, the runs and every worker (state, elapsed, tokens, last activity), with keys to stop, interrupt, and read a worker's transcript or result",
    )
    .addHelpText(
      "after",
      "\nKeys: up/down select, s stop (gracefully), i interrupt (Ctrl+C), enter or l the transcript, r the result,\nq or Ctrl+C quit; in a transcript or result: up/down, PgUp/PgDn, g/G to scroll, esc or q back.\nNeeds a terminal: elsewhere use `baton ls` or `baton watch`.",
    )
    .action(async () => (await action()).top(global()));
}
