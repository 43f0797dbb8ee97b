import { BatonError } from "../../errors.js";
import {
  NO_PLAN,
  PLAN_LIMITS,
  type Plan,
  type PlanOutcome,
  PlanStore,
  parsePlanUpdate,
  renderPlan,
  UPDATE_SHAPE,
} from "../../plan/index.js";
import { count } from "../../render/numbers.js";
import { resolveHome } from "../../store/home.js";
import { type GlobalOptions, printJson, writeErr, writeOut } from "../context.js";

const store = (global: GlobalOptions) => new PlanStore(global.home ?? resolveHome());

/** `baton plan show`. */
export async function show(global: GlobalOptions, json: boolean): Promise<void> {
  const current = await store(global).show();
  if (json) return printJson(current ?? null);
  writeOut(`${current ? renderPlan(current) : NO_PLAN}\n`);
}

/** `baton plan set STEP...`. */
export async function set(
  global: GlobalOptions,
  steps: string[],
  opts: { explanation?: string; json?: boolean },
): Promise<void> {
  const outcome = await store(global).set(steps, opts.explanation);
  report(outcome, Boolean(opts.json));
  await tellWatchers(global, outcome.plan);
}

/** `baton plan update`: from stdin, or `--advance`. */
export async function update(
  global: GlobalOptions,
  opts: { advance?: boolean; json?: boolean },
): Promise<void> {
  const plans = store(global);
  const outcome = opts.advance ? await plans.advance() : await plans.update(await readUpdate());
  report(outcome, Boolean(opts.json));
  await tellWatchers(global, outcome.plan);
}

/**
 * Puts the new plan on the workspace's event stream, if a supervisor runs (none is started for it:
 * a plan is a file, and whoever watches later reads it).
 */
async function tellWatchers(global: GlobalOptions, plan: Plan | undefined): Promise<void> {
  if (!plan) return;
  const { Baton } = await import("../../client/baton.js");
  const home = global.home ?? resolveHome();
  const done = plan.steps.filter((step) => step.status === "completed").length;
  try {
    const baton = await Baton.open({ home, autoStart: false, deadline: Date.now() + 2_000 });
    try {
      await baton.publish({ type: "plan", steps: plan.steps.length, done });
    } finally {
      baton.close();
    }
  } catch {
    // no supervisor, or one that does not answer: nobody is watching
  }
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
        `${PLAN_LIMITS.steps} steps of at most ${count(PLAN_LIMITS.stepChars)} characters`,
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
