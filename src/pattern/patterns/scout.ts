import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { ContextPack } from "../../context/index.js";
import { BatonError } from "../../errors.js";
import type { PatternRun } from "../pattern-run.js";
import { requireSucceeded } from "../pattern-run.js";
import {
  CONTEXT_PACK_JSON_SCHEMA,
  type PackAnswer,
  parsePackAnswer,
  parseVerdict,
  VERDICT_JSON_SCHEMA,
} from "../schemas.js";
import { synthesisBody } from "../synthesis.js";
import type { PatternResult } from "../types.js";

export interface ScoutOptions {
  readonly task: string;
  readonly write: readonly string[];
}

/** Scout → act → verify: the minimum context first, condensed into a context pack, then the work. */
export async function scout(run: PatternRun, options: ScoutOptions): Promise<PatternResult> {
  await run.planSteps(
    ["Scout the minimum context", "Condense it into a context pack", "Implement", "Verify"],
    "Scout → act → verify: lack of context is the biggest risk.",
  );
  const found = requireSucceeded(
    await run.one({ label: "scout", step: "scout", role: "scout", task: options.task }),
    "the scout",
  );
  await run.nextStep();
  const condensed = await run.structured(
    {
      label: "condense",
      step: "condense",
      task: "Condense the scout's report into a context pack",
      outputSchema: CONTEXT_PACK_JSON_SCHEMA,
      body: synthesisBody({
        job: `Condense the scout's report into a context pack for an implementer whose task is: ${options.task}`,
        input: found,
        output: [
          "JSON with goal, non_goals, constraints, pointers (existing file paths only), prior_decisions, success_check",
        ],
      }),
    },
    parsePackAnswer,
  );
  if (!condensed.ok)
    throw new BatonError("backend", `the context pack could not be condensed: ${condensed.error}`);
  const { pack, dropped } = toPack(condensed.value, run.options.cwd);
  for (const pointer of dropped) run.note(`dropped pointer "${pointer}": it does not exist`);
  await run.nextStep();
  const change = requireSucceeded(
    await run.one({
      label: "implement",
      step: "implement",
      role: "implementer",
      write: options.write,
      task: options.task,
      context: pack,
    }),
    "the implementer",
  );
  await run.nextStep();
  const verified = await run.structured(
    {
      label: "verify",
      step: "verify",
      role: "verifier",
      outputSchema: VERDICT_JSON_SCHEMA,
      context: pack,
      task: `Verify the change meets the goal and success check.\nThe implementer reported:\n${change}\nAnswer with JSON: {"pass", "summary", "issues"}.`,
    },
    parseVerdict,
  );
  await run.nextStep();
  const verdict = verified.ok ? verified.value : undefined;
  const markdown = [
    "# Scout → act → verify",
    "",
    `Verdict: ${verdict ? (verdict.pass ? "PASS" : "FAIL") : "no usable verdict"}${verdict ? ` — ${verdict.summary}` : ""}`,
    ...(verdict && !verdict.pass ? verdict.issues.map((i) => `- ${i}`) : []),
    "",
    "## What changed",
    change,
    "",
    "## Context pack used",
    `Goal: ${pack.goal ?? "-"}`,
    ...(pack.pointers.length ? [`Pointers: ${pack.pointers.join(", ")}`] : []),
    ...(pack.successCheck ? [`Success check: ${pack.successCheck}`] : []),
  ];
  return {
    markdown: `${markdown.join("\n").trim()}\n`,
    data: { passed: verdict?.pass === true, verdict, change, contextPack: pack },
  };
}

/** A condensed answer as a context pack, without pointers that do not exist. */
function toPack(answer: PackAnswer, cwd: string): { pack: ContextPack; dropped: string[] } {
  const exists = (pointer: string) =>
    /^[a-z]+:\/\//i.test(pointer) || existsSync(resolve(cwd, pointer.replace(/[:#].*$/, "")));
  return {
    pack: {
      ...(answer.goal ? { goal: answer.goal } : {}),
      nonGoals: answer.non_goals,
      constraints: answer.constraints,
      pointers: answer.pointers.filter(exists),
      priorDecisions: answer.prior_decisions,
      ...(answer.success_check ? { successCheck: answer.success_check } : {}),
    },
    dropped: answer.pointers.filter((p) => !exists(p)),
  };
}
