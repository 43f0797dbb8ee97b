import { BatonError } from "../../errors.js";
import { FINDINGS_JSON_SCHEMA, type MergedFinding, mergeFindings } from "../../merge/index.js";
import type { PatternRun } from "../pattern-run.js";
import { requireSucceeded } from "../pattern-run.js";
import { parseVerdict, VERDICT_JSON_SCHEMA, type Verdict } from "../schemas.js";
import type { PatternResult } from "../types.js";
import { findingsOf } from "./review.js";

export interface FixOptions {
  readonly task: string;
  /** How many of the ranked issues the implementer fixes. */
  readonly top: number;
  /** The command the verifier runs, e.g. "npm test". */
  readonly check: string | undefined;
  /** At most this many fix → verify rounds. */
  readonly maxRounds: number;
  /** Paths the implementer may write. */
  readonly write: readonly string[];
}

/** Review → fix → verify: a reviewer ranks issues, one implementer fixes the top N, a verifier checks. */
export async function fix(run: PatternRun, options: FixOptions): Promise<PatternResult> {
  await run.planSteps(
    [
      "Review and rank the issues",
      `Fix the top ${options.top}`,
      `Verify (at most ${options.maxRounds} rounds)`,
    ],
    "Review → fix → verify, looping while the verifier fails.",
  );
  const reviewed = await run.structured(
    {
      label: "review",
      step: "review",
      role: "reviewer",
      lens: "correctness",
      task: options.task,
      outputSchema: FINDINGS_JSON_SCHEMA,
    },
    findingsOf,
  );
  if (!reviewed.ok) throw new BatonError("backend", `the reviewer gave no usable answer: ${reviewed.error}`);
  const ranked = mergeFindings([
    {
      workerId: reviewed.result.id,
      lens: "correctness",
      ...run.agentOf(reviewed.result.id),
      findings: reviewed.value.findings,
    },
  ]);
  const chosen = ranked.slice(0, options.top);
  if (chosen.length === 0) {
    await run.nextStep();
    await run.nextStep();
    await run.nextStep();
    return { markdown: "# Fix\n\nThe reviewer found nothing to fix.\n", data: { fixed: [], rounds: [] } };
  }
  await run.nextStep();
  const rounds: { implementer: string; verdict: Verdict | { error: string } }[] = [];
  let feedback = "";
  let verdict: Verdict | undefined;
  for (let round = 1; round <= options.maxRounds; round++) {
    const implemented = await run.one({
      label: `fix-${round}`,
      step: "fix",
      role: "implementer",
      write: options.write,
      task: fixTask(options.task, chosen, feedback),
    });
    const change = requireSucceeded(implemented, "the implementer");
    if (round === 1) await run.nextStep();
    const verified = await run.structured(
      {
        label: `verify-${round}`,
        step: "verify",
        role: "verifier",
        outputSchema: VERDICT_JSON_SCHEMA,
        task: verifyTask(options, chosen, change),
      },
      parseVerdict,
    );
    verdict = verified.ok ? verified.value : undefined;
    rounds.push({ implementer: change, verdict: verified.ok ? verified.value : { error: verified.error } });
    if (verdict?.pass) break;
    feedback = verdict ? verdict.issues.join("\n") : "the verifier gave no usable verdict";
    if (round < options.maxRounds) run.note(`verification failed in round ${round}; fixing again`);
  }
  await run.nextStep();
  const passed = verdict?.pass === true;
  const markdown = [
    "# Fix",
    "",
    `Verdict: ${passed ? "PASS" : "FAIL"} after ${rounds.length} round${rounds.length === 1 ? "" : "s"}.`,
    verdict ? verdict.summary : "",
    "",
    "## Issues addressed",
    ...chosen.map(
      (f, i) =>
        `${i + 1}. [${f.severity.toUpperCase()}] ${f.title}${f.locations[0] ? ` — ${f.locations[0]}` : ""}`,
    ),
    "",
    "## What changed",
    rounds.at(-1)?.implementer ?? "",
    ...(passed
      ? []
      : ["", "## Still failing", ...(verdict?.issues ?? ["no usable verdict"]).map((i) => `- ${i}`)]),
  ];
  return { markdown: `${markdown.join("\n").trim()}\n`, data: { passed, fixed: chosen, rounds } };
}

function fixTask(task: string, issues: readonly MergedFinding[], feedback: string): string {
  const list = issues
    .map(
      (f, i) =>
        `${i + 1}. ${f.title} (${f.locations.join("; ") || "no location"}): ${f.recommendations.join(" ")}`,
    )
    .join("\n");
  const again = feedback ? `\nThe verifier rejected the previous attempt:\n${feedback}` : "";
  return `Fix these issues, most important first, and nothing else.\nOriginal request: ${task}\n${list}${again}`;
}

function verifyTask(options: FixOptions, issues: readonly MergedFinding[], change: string): string {
  const check = options.check
    ? `Run \`${options.check}\` and report its outcome.`
    : "Run the project's checks if any.";
  return [
    `Verify that these issues are fixed without regressions. ${check}`,
    ...issues.map((f, i) => `${i + 1}. ${f.title}`),
    `The implementer reported:\n${change}`,
    'Answer with JSON: {"pass": true|false, "summary": "...", "issues": ["..."]}.',
  ].join("\n");
}
