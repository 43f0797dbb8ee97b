import { BatonError } from "../../errors.js";
import {
  FINDINGS_JSON_SCHEMA,
  type MergedFinding,
  mergeFindings,
  parseFindings,
  renderFindingsForSynthesis,
  renderMergedMarkdown,
  type WorkerFindings,
} from "../../merge/index.js";
import type { PatternRun } from "../pattern-run.js";
import { requireSucceeded } from "../pattern-run.js";
import { synthesisBody } from "../synthesis.js";
import type { PatternResult } from "../types.js";

export interface ReviewOptions {
  /** What to review, and how. */
  readonly task: string;
  /** 2 to 4 lens ids. */
  readonly lenses: readonly string[];
}

/** Parses a reviewer's structured answer, keeping the shape `structured()` wants. */
export function findingsOf(answer: string) {
  const parsed = parseFindings(answer);
  return parsed.ok ? { ok: true as const, value: parsed } : parsed;
}

/** Triangulated review: reviewers with different lenses in parallel, a deterministic merge, then synthesis. */
export async function review(run: PatternRun, options: ReviewOptions): Promise<PatternResult> {
  if (options.lenses.length < 2 || options.lenses.length > 4) {
    throw new BatonError(
      "usage",
      `a triangulated review takes 2 to 4 lenses, got ${options.lenses.length}: use --lens 2 to 4 times`,
    );
  }
  await run.planSteps(
    [
      `Review through ${options.lenses.join(", ")}`,
      "Merge and rank the findings",
      "Write the recommendations",
    ],
    "Triangulated review: independent lenses, duplicates merged, one ranked list.",
  );
  const outcomes = await Promise.all(
    options.lenses.map((lens) =>
      run.structured(
        {
          label: `review-${lens}`,
          step: "review",
          role: "reviewer",
          lens,
          task: options.task,
          outputSchema: FINDINGS_JSON_SCHEMA,
        },
        findingsOf,
      ),
    ),
  );
  await run.nextStep();
  const inputs: WorkerFindings[] = [];
  const invalid: { lens: string; worker: string; error: string }[] = [];
  for (const [index, outcome] of outcomes.entries()) {
    const lens = options.lenses[index]!;
    if (outcome.ok) inputs.push({ workerId: outcome.result.id, lens, findings: outcome.value.findings });
    else invalid.push({ lens, worker: outcome.result.id, error: outcome.error });
  }
  if (inputs.length === 0)
    throw new BatonError("backend", "no reviewer gave a usable answer: see `baton ls` and `baton logs`");
  const merged = mergeFindings(inputs);
  await run.nextStep();
  const synthesis = await run.one({
    label: "synthesis",
    step: "synthesis",
    task: "Write the recommendations from the merged review findings",
    body: synthesisBody({
      job: "Turn the merged review findings into clear, ranked recommendations.",
      input: renderFindingsForSynthesis(merged),
      output: [
        "One paragraph on the overall state",
        "The recommended fixes, most important first",
        "One recommended next step",
      ],
    }),
  });
  const recommendations = requireSucceeded(synthesis, "the synthesis worker");
  await run.nextStep();
  return {
    markdown: reviewMarkdown(recommendations, merged, invalid),
    data: { recommendations, findings: merged, invalid, lenses: options.lenses },
  };
}

export function reviewMarkdown(
  recommendations: string,
  merged: readonly MergedFinding[],
  invalid: readonly { lens: string; worker: string; error: string }[],
): string {
  const parts = [
    "# Review",
    "",
    recommendations,
    "",
    renderMergedMarkdown(merged, { title: "Findings, ranked" }),
  ];
  if (invalid.length > 0) {
    parts.push("", "## Left out", ...invalid.map((i) => `- ${i.lens} reviewer ${i.worker}: ${i.error}`));
  }
  return `${parts.join("\n").trim()}\n`;
}
