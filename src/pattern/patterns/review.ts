import type { NamedAgents } from "../../client/agent-schema.js";
import { BatonError } from "../../errors.js";
import {
  type Agent,
  agentText,
  FINDINGS_JSON_SCHEMA,
  type MergedFinding,
  mergeFindings,
  parseFindings,
  renderFindingsForSynthesis,
  renderMergedMarkdown,
  type WorkerFindings,
} from "../../merge/index.js";
import type { AgentChoice } from "../agents.js";
import type { PatternRun } from "../pattern-run.js";
import { requireSucceeded } from "../pattern-run.js";
import { checkBackend } from "../run-agents.js";
import { synthesisBody } from "../synthesis.js";
import type { PatternResult } from "../types.js";

export interface ReviewOptions {
  /** What to review, and how. */
  readonly task: string;
  /** 2 to 4 lens ids; one may come twice, on two backends (the same lens through two models). */
  readonly lenses: readonly string[];
  /**
   * The agent of each lens's reviewer, in the order of `lenses` (`--lens security=claude`); null or
   * missing: the reviewer role's, else the run's.
   */
  readonly agents?: readonly (AgentChoice | null)[];
}

/** Parses a reviewer's structured answer, keeping the shape `structured()` wants. */
export function findingsOf(answer: string) {
  const parsed = parseFindings(answer);
  return parsed.ok ? { ok: true as const, value: parsed } : parsed;
}

/** Triangulated review: reviewers with different lenses in parallel, a deterministic merge, then synthesis. */
export async function review(run: PatternRun, options: ReviewOptions): Promise<PatternResult> {
  const agents = checkReview(options, run.options.agents);
  const labels = reviewerLabels(options.lenses, agents);
  const through = options.lenses.map((lens, index) => {
    const agent = agents[index];
    return agent ? `${lens} on ${agentText(agent)}` : lens;
  });
  await run.planSteps(
    [`Review through ${through.join(", ")}`, "Merge and rank the findings", "Write the recommendations"],
    "Triangulated review: independent lenses, duplicates merged, one ranked list.",
  );
  const outcomes = await Promise.all(
    options.lenses.map((lens, index) =>
      run.structured(
        {
          label: labels[index]!,
          step: "review",
          role: "reviewer",
          lens,
          task: options.task,
          outputSchema: FINDINGS_JSON_SCHEMA,
          ...(agents[index] ? { agent: agents[index] } : {}),
        },
        findingsOf,
      ),
    ),
  );
  await run.nextStep();
  const inputs: WorkerFindings[] = [];
  const invalid: { lens: string; worker: string; error: string }[] = [];
  const reviewers: Reviewer[] = [];
  for (const [index, outcome] of outcomes.entries()) {
    const lens = options.lenses[index]!;
    const agent = run.agentOf(outcome.result.id);
    reviewers.push({ lens, worker: outcome.result.id, ...agent });
    if (outcome.ok)
      inputs.push({ workerId: outcome.result.id, lens, ...agent, findings: outcome.value.findings });
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
    markdown: reviewMarkdown(recommendations, merged, invalid, reviewers),
    data: { recommendations, findings: merged, invalid, lenses: options.lenses, reviewers },
  };
}

/** Checks a review's options before anything starts; returns each lens's own agent, if any. */
export function checkReview(options: ReviewOptions, named?: NamedAgents): (AgentChoice | undefined)[] {
  if (options.lenses.length < 2 || options.lenses.length > 4) {
    throw new BatonError(
      "usage",
      `a triangulated review takes 2 to 4 lenses, got ${options.lenses.length}: use --lens 2 to 4 times`,
    );
  }
  const agents = options.lenses.map((_, index) => options.agents?.[index] ?? undefined);
  for (const [index, agent] of agents.entries())
    if (agent) checkBackend(agent.backend, `lens ${options.lenses[index]}`, named);
  return agents;
}

/**
 * `review-<lens>`; a lens that comes twice is told apart by its backend (`review-security-gemini`), and
 * by its place if that is not enough.
 */
function reviewerLabels(lenses: readonly string[], agents: readonly (AgentChoice | undefined)[]): string[] {
  const taken = new Set<string>();
  return lenses.map((lens, index) => {
    const repeated = lenses.indexOf(lens) !== lenses.lastIndexOf(lens);
    let label = repeated ? `review-${lens}-${agents[index]?.backend ?? "run"}` : `review-${lens}`;
    if (taken.has(label)) label = `${label}-${index + 1}`;
    taken.add(label);
    return label;
  });
}

/** One lens's reviewer: its worker (the retry's, when its first answer was malformed) and its agent. */
export interface Reviewer extends Agent {
  readonly lens: string;
  readonly worker: string;
}

export function reviewMarkdown(
  recommendations: string,
  merged: readonly MergedFinding[],
  invalid: readonly { lens: string; worker: string; error: string }[],
  reviewers: readonly Reviewer[] = [],
): string {
  const parts = [
    "# Review",
    "",
    recommendations,
    "",
    renderMergedMarkdown(merged, {
      title: "Findings, ranked",
      // Those that gave a usable answer: one that found nothing is in no finding, but counts.
      ...(reviewers.length > 0 ? { reviewers: reviewers.length - invalid.length } : {}),
    }).trimEnd(),
  ];
  if (invalid.length > 0) {
    parts.push("", "## Left out", ...invalid.map((i) => `- ${i.lens} reviewer ${i.worker}: ${i.error}`));
  }
  if (reviewers.length > 0) {
    const who = reviewers.map((r) => `${r.lens} (${[r.worker, agentText(r)].filter(Boolean).join(", ")})`);
    parts.push("", `Reviewers: ${who.join("; ")}`);
  }
  return `${parts.join("\n").trim()}\n`;
}
