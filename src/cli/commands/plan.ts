import type { Command } from "commander";
import { PLAN_LIMITS, UPDATE_SHAPE } from "../../plan/limits.js";
import { count } from "../../render/numbers.js";
import type { GlobalOptions } from "../context.js";

// What each command does is in ../actions/plan.ts, loaded only when one of them runs.
const actions = () => import("../actions/plan.js");

const RULES = `
Rules (those of Codex's update_plan):
  - one short sentence per step; 3 to 6 steps is the recommended size (outside it: a warning)
  - exactly one step is in_progress while any step is not completed
  - once every step is completed, none is in_progress
  - at most ${PLAN_LIMITS.steps} steps of at most ${count(PLAN_LIMITS.stepChars)} characters, an explanation of at most ${count(PLAN_LIMITS.explanationChars)}
  - every accepted version is appended to plan-history.jsonl in the run store

update reads ${UPDATE_SHAPE} from stdin.

Example:
  $ baton plan set "Scout the parser" "Fix the bug" "Run the tests" --explanation "issue #12"
  $ baton plan update --advance
  $ echo '{"plan": [{"step": "Scout the parser", "status": "completed"},
      {"step": "Fix the bug", "status": "in_progress"}, {"step": "Run the tests", "status": "pending"}]}' \\
      | baton plan update
  $ baton plan show
  [x] Scout the parser
  [>] Fix the bug
  [ ] Run the tests
`;

/** `baton plan ...`: the workspace plan, kept as plain files in the run store (no supervisor needed). */
export function registerPlan(program: Command, global: () => GlobalOptions): void {
  const plan = program
    .command("plan")
    .description("keep the lead's plan: a few steps, exactly one in_progress (Codex's update_plan)")
    .usage("set|update|show [options]")
    .addHelpText("after", RULES);

  // `baton plan` alone prints this help, as every group does; `baton plan show` prints the plan.
  plan
    .command("show")
    .description("print the current plan")
    .option("--json", "print JSON (null when there is no plan)")
    .action(async (opts) => (await actions()).show(global(), Boolean(opts.json)));

  plan
    .command("set")
    .description("start a new plan: the first step in_progress, the rest pending")
    .argument("<steps...>", "the steps, one short sentence each")
    .option("--explanation <text>", "why the plan looks this way")
    .option("--json", "print JSON")
    .action(async (steps: string[], opts) => (await actions()).set(global(), steps, opts));

  plan
    .command("update")
    .description("replace the whole plan with an update_plan JSON object read from stdin")
    .addHelpText("after", `\nstdin: ${UPDATE_SHAPE}`)
    .option("--advance", "instead: complete the in_progress step and start the next pending one")
    .option("--json", "print JSON")
    .action(async (opts) => (await actions()).update(global(), opts));
}
