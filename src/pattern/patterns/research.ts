import { BatonError } from "../../errors.js";
import {
  FINDINGS_JSON_SCHEMA,
  formatApa7,
  mergeFindings,
  renderFindingsForSynthesis,
  type Source,
  type WorkerFindings,
} from "../../merge/index.js";
import type { PatternRun } from "../pattern-run.js";
import { requireSucceeded } from "../pattern-run.js";
import { synthesisBody } from "../synthesis.js";
import type { PatternResult } from "../types.js";
import { findingsOf } from "./review.js";

export interface ResearchOptions {
  readonly question: string;
  /** Sub-questions, one researcher each. */
  readonly questions: readonly string[];
  /** Scholarly work: references in APA 7. */
  readonly scholarly: boolean;
  /** The researchers' web search (on unless false: `--no-search`). */
  readonly search?: boolean;
}

/** Research → synthesis → next actions: parallel researchers, one decision-ready brief with sources. */
export async function research(run: PatternRun, options: ResearchOptions): Promise<PatternResult> {
  const questions = options.questions.length > 0 ? options.questions : [options.question];
  await run.planSteps(
    [
      `Research ${questions.length} sub-question${questions.length === 1 ? "" : "s"} in parallel`,
      "Merge findings and sources",
      "Write the brief",
    ],
    "Research → synthesis → next actions.",
  );
  const outcomes = await Promise.all(
    questions.map((question, index) =>
      run.structured(
        {
          label: `research-${index + 1}`,
          step: "research",
          role: "research",
          ...(options.search === false ? { search: false } : {}),
          outputSchema: FINDINGS_JSON_SCHEMA,
          task: `Main question: ${options.question}\nYour sub-question: ${question}\nEach finding is a claim: put the claim in title, support in evidence, and cite its sources.`,
        },
        findingsOf,
      ),
    ),
  );
  await run.nextStep();
  const inputs: WorkerFindings[] = [];
  const invalid: string[] = [];
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.ok)
      inputs.push({
        workerId: outcome.result.id,
        lens: `q${index + 1}`,
        ...run.agentOf(outcome.result.id),
        findings: outcome.value.findings,
      });
    else invalid.push(`sub-question ${index + 1} (${outcome.result.id}): ${outcome.error}`);
  }
  if (inputs.length === 0)
    throw new BatonError("backend", "no researcher gave a usable answer: see `baton ls` and `baton logs`");
  const merged = mergeFindings(inputs);
  const sources = uniqueSources(merged.flatMap((f) => f.sources));
  await run.nextStep();
  const brief = requireSucceeded(
    await run.one({
      label: "brief",
      step: "brief",
      task: "Write the decision-ready brief",
      body: synthesisBody({
        job: `Write a decision-ready brief answering: ${options.question}`,
        input: renderFindingsForSynthesis(merged),
        output: [
          "The answer in 5 to 10 bullets",
          "Where the sources disagree, and how sure we are",
          "Next actions",
          options.scholarly ? "Cite as (Author, Year) in APA 7 style" : "Cite the sources you rely on",
        ],
      }),
    }),
    "the synthesis worker",
  );
  await run.nextStep();
  const references = sources.map((s) =>
    options.scholarly ? formatApa7(s) : `${s.title}${s.url ? ` — ${s.url}` : ""}`,
  );
  const markdown = [
    `# Research: ${options.question}`,
    "",
    brief,
    "",
    options.scholarly ? "## References" : "## Sources",
    ...(references.length ? references.sort().map((r) => `- ${r}`) : ["- none reported"]),
    ...(invalid.length ? ["", "## Left out", ...invalid.map((i) => `- ${i}`)] : []),
  ];
  return { markdown: `${markdown.join("\n").trim()}\n`, data: { brief, findings: merged, sources, invalid } };
}

function uniqueSources(sources: readonly Source[]): Source[] {
  const seen = new Map<string, Source>();
  for (const source of sources) seen.set((source.url || source.title).toLowerCase(), source);
  return [...seen.values()];
}
