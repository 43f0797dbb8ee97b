import { BACKEND_NAMES } from "../backend/names.js";
import { closest } from "../context/suggest.js";
import type { Problem } from "./problem.js";
import { ITEM, type StepSpec, type WorkflowSpec } from "./schema.js";

// What a merge step holds instead: the steps to merge, and a task for its synthesis worker.
const NOT_IN_MERGE = ["role", "lens", "for_each", "structured", "write"] as const;

/**
 * What is wrong with each step on its own terms and with `result`, in file order. How steps refer to each
 * other (unknown ids, cycles) is graph.ts's part; a merge of a step that is not structured is checked here.
 */
export function stepProblems(spec: WorkflowSpec, agents: readonly string[] = []): Problem[] {
  const problems: Problem[] = [];
  const byId = new Map(spec.steps.map((step) => [step.id, step]));
  spec.steps.forEach((step, index) => {
    const at = (field: string) => ["steps", index, field];
    if (step.merge) {
      for (const key of NOT_IN_MERGE) {
        if (step[key] !== undefined) {
          problems.push({
            path: at(key),
            message: `a merge step takes no ${key}: its own synthesis worker writes the result; move ${key} to a step of its own`,
          });
        }
      }
      step.merge.forEach((id, position) => {
        const merged = byId.get(id);
        const why = !merged
          ? undefined // an unknown id is graph.ts's to report
          : merged.merge
            ? `step "${id}" is a merge itself: name the steps it merges instead`
            : merged.structured !== true
              ? `step "${id}" is not structured, so it has no findings to merge: add "structured: true" to it`
              : undefined;
        if (why) problems.push({ path: at("merge"), at: [...at("merge"), position], message: why });
      });
    } else if (step.task === undefined) {
      problems.push({
        path: at("task"),
        message: "missing: say what the step's workers do (or use merge: to merge other steps)",
      });
    }
    if (step.write && step.role !== "implementer") {
      problems.push({
        path: at("write"),
        message: `only an implementer may write; ${step.role ? `a ${step.role}` : "a step without a role"} runs read-only: remove write or use "role: implementer"`,
      });
    }
    problems.push(...itemProblems(step, index));
  });
  spec.steps.forEach((step, index) => {
    const problem = backendProblem(step.backend, ["steps", index, "backend"], agents);
    if (problem) problems.push(problem);
  });
  const fileBackend = backendProblem(spec.backend, ["backend"], agents);
  if (fileBackend) problems.push(fileBackend);
  if (spec.result !== undefined && !byId.has(spec.result)) {
    const guess = closest(spec.result, [...byId.keys()]);
    const hint = guess ? `did you mean "${guess}"?` : `the steps are ${[...byId.keys()].join(", ")}`;
    problems.push({ path: ["result"], message: `unknown step "${spec.result}": ${hint}` });
  }
  return problems;
}

// `{{item}}` outside a fan-out would reach the worker as written; a repeated item would run twice.
function itemProblems(step: StepSpec, index: number): Problem[] {
  const problems: Problem[] = [];
  if (!step.for_each) {
    for (const field of ["task", "lens"] as const) {
      if (step[field]?.match(ITEM)) {
        problems.push({
          path: ["steps", index, field],
          message: "{{item}} is filled in only in a step with for_each: add for_each or remove {{item}}",
        });
      }
    }
    return problems;
  }
  step.for_each.forEach((item, position) => {
    if (step.for_each?.indexOf(item) !== position) {
      problems.push({
        path: ["steps", index, "for_each"],
        at: ["steps", index, "for_each", position],
        message: `"${item}" is listed twice: list each item once`,
      });
    }
  });
  return problems;
}

/** A backend Baton does not know (nor a named agent of the config), named in one line with the known ones. */
function backendProblem(
  name: string | undefined,
  path: (string | number)[],
  agents: readonly string[],
): Problem | undefined {
  const known = [...BACKEND_NAMES, ...[...agents].sort()];
  if (name === undefined || known.includes(name)) return undefined;
  const guess = closest(name, known);
  return {
    path,
    message: `unknown backend "${name}": choose one of ${known.join(", ")}${guess ? ` (did you mean "${guess}"?)` : ""}`,
  };
}
