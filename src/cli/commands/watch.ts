import type { Command } from "commander";
import { type GlobalOptions, nonNegativeInteger } from "../context.js";

const actions = () => import("../actions/watch.js");

export function registerWatch(program: Command, global: () => GlobalOptions): void {
  program
    .command("watch")
    .description(
      "print what happens as it happens: workers spawned, started, their state, tokens and output, answers, runs and their steps",
    )
    .argument("[targets...]", "worker ids (w3) and run ids (r2): only their events, until all have ended")
    .option("--json", "one JSON object a line, each with its sequence number `seq`")
    .option(
      "--since <seq>",
      "start after this sequence number (the last `seq` seen), so nothing is missed or repeated; 0: all kept",
      nonNegativeInteger("--since"),
    )
    .addHelpText(
      "after",
      "\nWith no targets it runs until Ctrl+C. Examples:\n  baton watch\n  baton watch w3 w4 --json\n  baton watch r2\n  baton watch --json --since 1042",
    )
    .action(async (targets: string[], opts) => (await actions()).watch(global(), targets, opts));
}
