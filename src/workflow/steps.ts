import { DEFAULT_BACKEND } from "../client/workspace-config.js";
import { BatonError } from "../errors.js";
import {
  FINDINGS_JSON_SCHEMA,
  type MergedFinding,
  mergeFindings,
  renderFindingsForSynthesis,
  renderMergedMarkdown,
  type WorkerFindings,
} from "../merge/index.js";
import type { AgentChoice } from "../pattern/agents.js";
import { type PatternRun, requireSucceeded, type WorkerAsk } from "../pattern/pattern-run.js";
import { findingsOf } from "../pattern/patterns/review.js";
import { labelledAnswers, synthesisBody } from "../pattern/synthesis.js";
import { renderAnswers, type StepAnswer, withAnswers } from "./inputs.js";
import { ITEM } from "./schema.js";
import type { MergeStep, WorkerStep, WorkflowStep } from "./types.js";

/** What a finished step leaves behind. */
export interface StepOutput {
  /** What the steps that depend on it are given: final answers only, labelled by worker. */
  readonly answer: string;
  /** The step as a run's result, for people. */
  readonly markdown: string;
  /** The step as a run's result, for programs. */
  readonly data: Record<string, unknown>;
  /** A structured step's usable findings, for a merge. */
  readonly findings: readonly WorkerFindings[];
  /** Structured answers that were still malformed after their retry, or whose worker failed. */
  readonly leftOut: readonly string[];
}

/** Runs one step to its output; `given` holds the answers of the steps it depends on. */
export function runStep(
  run: PatternRun,
  step: WorkflowStep,
  given: readonly StepAnswer[],
  done: ReadonlyMap<string, StepOutput>,
): Promise<StepOutput> {
  return step.kind === "merge"
    ? runMerge(run, step, given, done)
    : step.structured
      ? runStructured(run, step, given)
      : runPlain(run, step, given);
}

async function runPlain(
  run: PatternRun,
  step: WorkerStep,
  given: readonly StepAnswer[],
): Promise<StepOutput> {
  const asks = asksOf(run, step, given);
  const results = await run.all(asks.map(({ ask }) => ask));
  const answers = results.map((result, index) => ({
    label: asks[index]!.ask.label,
    item: asks[index]!.item,
    worker: result.id,
    answer: requireSucceeded(
      result,
      step.forEach ? `step "${step.id}" worker ${asks[index]!.ask.label}` : `step "${step.id}"`,
    ),
  }));
  const only = answers.length === 1 ? answers[0]!.answer : undefined;
  return {
    answer: only ?? labelledAnswers(answers),
    markdown: only ?? answers.map(({ label, answer }) => `## ${label}\n\n${answer}`).join("\n\n"),
    data: { kind: "answers", answers },
    findings: [],
    leftOut: [],
  };
}

async function runStructured(
  run: PatternRun,
  step: WorkerStep,
  given: readonly StepAnswer[],
): Promise<StepOutput> {
  const asks = asksOf(run, step, given);
  const outcomes = await Promise.all(asks.map(({ ask }) => run.structured(ask, findingsOf)));
  const findings: WorkerFindings[] = [];
  const leftOut: string[] = [];
  for (const [index, outcome] of outcomes.entries()) {
    const { ask, item } = asks[index]!;
    const lens = item ?? step.lens ?? step.id;
    const agent = run.agentOf(outcome.result.id);
    if (outcome.ok)
      findings.push({ workerId: outcome.result.id, lens, ...agent, findings: outcome.value.findings });
    else leftOut.push(`${ask.label} (${outcome.result.id}): ${outcome.error}`);
  }
  if (findings.length === 0) {
    throw new BatonError(
      "backend",
      `step "${step.id}": no worker gave a usable answer (${leftOut.join("; ")}): see \`baton logs\``,
    );
  }
  // Several workers of one step may report the same thing; they are merged as a merge step would.
  const merged = mergeFindings(findings);
  return {
    answer: renderFindingsForSynthesis(merged).trim(),
    markdown: findingsMarkdown(merged, findings.length),
    data: { kind: "findings", workers: findings.map((f) => f.workerId), findings: merged, leftOut },
    findings,
    leftOut,
  };
}

async function runMerge(
  run: PatternRun,
  step: MergeStep,
  given: readonly StepAnswer[],
  done: ReadonlyMap<string, StepOutput>,
): Promise<StepOutput> {
  const inputs = step.merge.flatMap((id) => done.get(id)?.findings ?? []);
  const merged = mergeFindings(inputs);
  const extra = given.length > 0 ? `\n\n${renderAnswers(given, "ALSO GIVEN")}` : "";
  const result = await run.one({
    label: step.id,
    step: step.id,
    task: step.task,
    ...agentOf(step, run),
    body: synthesisBody({
      job: step.task,
      input: `${renderFindingsForSynthesis(merged).trim()}${extra}`,
      output: [
        "What the findings add up to, in one short paragraph",
        "Your answer to the task above, most important first",
        "One recommended next step",
      ],
      context: run.options.context,
    }),
  });
  const synthesis = requireSucceeded(result, `step "${step.id}" (its synthesis worker)`);
  return {
    // Dependents get the ranked list too, so "fix the top finding" has the finding's place and evidence.
    answer: `${synthesis}\n\n${renderFindingsForSynthesis(merged).trim()}`,
    markdown: `${synthesis}\n\n${findingsMarkdown(merged, inputs.length)}`,
    data: { kind: "merge", worker: result.id, synthesis, findings: merged },
    findings: [],
    leftOut: [],
  };
}

function findingsMarkdown(merged: readonly MergedFinding[], reviewers: number): string {
  return `## Findings, ranked\n\n${renderMergedMarkdown(merged, { reviewers })}`;
}

/** One ask per worker of the step: one per `for_each` item, else one. */
function asksOf(
  run: PatternRun,
  step: WorkerStep,
  given: readonly StepAnswer[],
): { ask: WorkerAsk; item?: string }[] {
  const items = step.forEach ?? [undefined];
  const labels = new Set<string>();
  return items.map((item, index) => {
    const fill = (text: string) => (item === undefined ? text : text.replace(ITEM, () => item));
    // An item that neither the task nor the lens mentions would leave every worker with the same job.
    const named = mentionsItem(step.task) || mentionsItem(step.lens);
    const task = fill(step.task) + (item !== undefined && !named ? `\n\nYOUR ITEM: ${item}` : "");
    let label = item === undefined ? step.id : `${step.id}-${slug(item) || index + 1}`;
    if (labels.has(label)) label = `${label}-${index + 1}`;
    labels.add(label);
    const ask: WorkerAsk = {
      label,
      step: step.id,
      task: withAnswers(task, given),
      ...(step.role ? { role: step.role } : {}),
      ...(step.lens ? { lens: fill(step.lens) } : {}),
      ...(step.write.length > 0 ? { write: step.write } : {}),
      ...(step.structured ? { outputSchema: FINDINGS_JSON_SCHEMA } : {}),
      ...agentOf(step, run),
    };
    return item === undefined ? { ask } : { ask, item };
  });
}

/** The step's own agent, if it names a backend or a model (a model alone: on the run's backend). */
function agentOf(step: WorkflowStep, run: PatternRun): { agent?: AgentChoice } {
  if (step.backend === undefined && step.model === undefined) return {};
  const backend = step.backend ?? run.options.backend ?? DEFAULT_BACKEND;
  return { agent: { backend, ...(step.model ? { model: step.model } : {}) } };
}

const mentionsItem = (text: string | undefined): boolean => text !== undefined && text.search(ITEM) !== -1;

const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 24)
    .replace(/-+$/, "");
