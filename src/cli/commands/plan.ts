import type { Command } from "commander";
import { BatonError } from "../../errors.js";
import {
  NO_PLAN,
  PLAN_LIMITS,
  type PlanOutcome,
  PlanStore,
  parsePlanUpdate,
  renderPlan,
  UPDATE_SHAPE,
} from "../../plan/index.js";
import { resolveHome } from "../../store/home.js";
import { type GlobalOptions, printJson, writeErr, writeOut } from "../context.js";

const RULES = `
Rules (those of Codex's update_plan):
  - one short sentence per step; 3 to 6 steps is the recommended size (outside it: a warning)
  - exactly one step is in_progress while any step is not completed
  - once every step is completed, none is in_progress
  - at most ${PLAN_LIMITS.steps} steps of at most ${PLAN_LIMITS.stepChars.toLocaleString("en-US")} characters, an explanation of at most ${PLAN_LIMITS.explanationChars.toLocaleString("en-US")}
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
  const store = () => new PlanStore(global().home ?? resolveHome());
  const plan = program
    .command("plan")
    .description("keep the lead's plan: a few steps, exactly one in_progress (Codex's update_plan)")
    .usage("[set|update|show] [options]")
    .addHelpText("after", RULES);

  const show = async (json: boolean) => {
    const current = await store().show();
    if (json) return printJson(current ?? null);
    writeOut(`${current ? renderPlan(current) : NO_PLAN}\n`);
  };
  // `baton plan` alone shows the plan; not commander's `isDefault`, which would report a mistyped
  // subcommand as "too many arguments for 'show'".
  plan.argument("[command]").action(async (command: string | undefined) => {
    if (command !== undefined) {
      throw new BatonError("usage", `unknown plan command "${command}": use set, update or show`);
    }
    await show(false);
  });

  plan
    .command("show")
    .description("print the current plan (also what `baton plan` alone does)")
    .option("--json", "print JSON (null when there is no plan)")
    .action((opts) => show(Boolean(opts.json)));

  plan
    .command("set")
    .description("start a new plan: the first step in_progress, the rest pending")
    .argument("<steps...>", "the steps, one short sentence each")
    .option("--explanation <text>", "why the plan looks this way")
    .option("--json", "print JSON")
    .action(async (steps: string[], opts) => {
      report(await store().set(steps, opts.explanation), Boolean(opts.json));
    });

  plan
    .command("update")
    .description("replace the whole plan with an update_plan JSON object read from stdin")
    .addHelpText("after", `\nstdin: ${UPDATE_SHAPE}`)
    .option("--advance", "instead: complete the in_progress step and start the next pending one")
    .option("--json", "print JSON")
    .action(async (opts) => {
      const outcome = opts.advance ? await store().advance() : await store().update(await readUpdate());
      report(outcome, Boolean(opts.json));
    });
}

/** Prints the accepted plan; warnings go to stderr so that `--json` output stays parseable. */
function report(outcome: PlanOutcome, json: boolean): void {
  if (json) printJson(outcome);
  else writeOut(`${renderPlan(outcome.plan)}\n`);
  for (const warning of outcome.warnings) writeErr(`baton: warning: ${warning}\n`);
}

/** The largest plan update read from stdin: room for the largest plan PLAN_LIMITS allows, escaped. */
const MAX_UPDATE_BYTES = 1024 * 1024;

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

async function readUpdate() {
  if (process.stdin.isTTY) {
    throw new BatonError(
      "usage",
      `baton plan update reads ${UPDATE_SHAPE} from stdin: pipe it in, or use --advance`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end, so that the writer never meets a closed pipe; keep no more than the limit.
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size <= MAX_UPDATE_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_UPDATE_BYTES) {
    throw new BatonError(
      "usage",
      `the plan update on stdin is ${mib(size)}, more than ${mib(MAX_UPDATE_BYTES)}: a plan has at most ` +
        `${PLAN_LIMITS.steps} steps of at most ${PLAN_LIMITS.stepChars.toLocaleString("en-US")} characters`,
    );
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") throw new BatonError("usage", `stdin is empty: pipe in ${UPDATE_SHAPE}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const why = (error as Error).message.replace(/\s+/g, " ");
    throw new BatonError("usage", `stdin is not valid JSON (${why}): pipe in ${UPDATE_SHAPE}`);
  }
  return parsePlanUpdate(value);
}
