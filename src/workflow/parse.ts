import { usageAt } from "../context/parsed.js";
import type { BatonError } from "../errors.js";
import { stepProblems } from "./check.js";
import { type ContextSource, contextSourceOf } from "./context.js";
import { type GraphStep, graphProblem, levelsOf } from "./graph.js";
import { describeIssue, problemOf } from "./issues.js";
import { isProblem, type Problem, pathText } from "./problem.js";
import { type WorkflowSpec, workflowSchema } from "./schema.js";
import { YamlSource } from "./yaml-source.js";

/** A workflow file that passed every check that needs nothing but its text. */
export interface ParsedWorkflow {
  readonly spec: WorkflowSpec;
  readonly context: ContextSource | undefined;
  readonly levels: string[][];
  /** For errors found later, in the file system (a missing cwd or pointer), at their line. */
  readonly source: YamlSource;
}

/**
 * Reads a workflow file's text, or throws a usage error `file:line: field: what is wrong`. Of several
 * problems the one nearest the top of the file is reported, so fixing them top-down always makes progress;
 * a missing field comes last, since it is often the other half of a misspelt one.
 */
export function parseWorkflow(text: string, file: string, agents: readonly string[] = []): ParsedWorkflow {
  const source = YamlSource.parse(text, file);
  const data = source.data;
  if (data === null || data === undefined) {
    throw usageAt(file, undefined, "the workflow file is empty: list its steps under steps:");
  }
  if (typeof data !== "object" || Array.isArray(data)) {
    throw usageAt(file, source.lineOf([]), "expected a mapping with steps: at the top");
  }
  const parsed = workflowSchema.safeParse(data, { error: describeIssue });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => problemOf(issue));
    throw problemError(source, problems);
  }
  const spec = parsed.data;
  const context = spec.context === undefined ? undefined : contextSourceOf(spec.context);
  const steps = graphSteps(spec);
  const problems = [
    ...(context && isProblem(context) ? [context] : []),
    ...stepProblems(spec, agents),
    ...[graphProblem(steps)].filter((problem) => problem !== undefined),
  ];
  if (problems.length > 0) throw problemError(source, problems);
  return {
    spec,
    context: context && !isProblem(context) ? context : undefined,
    levels: levelsOf(steps),
    source,
  };
}

/** The usage error for the problem nearest the top of the file (a missing field last). */
export function problemError(source: YamlSource, problems: readonly Problem[]): BatonError {
  const placed = problems.map((problem) => ({
    problem,
    line: source.lineOf(problem.at ?? problem.path),
    rank: problem.missing ? 1 : 0,
  }));
  placed.sort(
    (a, b) => a.rank - b.rank || (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER),
  );
  const { problem, line } = placed[0]!;
  const field = pathText(problem.path);
  return usageAt(source.file, line, field ? `${field}: ${problem.message}` : problem.message);
}

function graphSteps(spec: WorkflowSpec): GraphStep[] {
  return spec.steps.map((step, index) => ({
    id: step.id,
    path: ["steps", index],
    needs: [
      ...(step.depends_on ?? []).map((id, i) => ({ id, field: "depends_on", index: i })),
      ...(step.merge ?? []).map((id, i) => ({ id, field: "merge", index: i })),
    ],
  }));
}
