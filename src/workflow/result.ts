import type { PatternResult } from "../pattern/types.js";
import type { StepOutput } from "./steps.js";
import type { Workflow } from "./types.js";

/** The run's ONE result: the result step's output, with what was left out and which workers did what. */
export function workflowResult(
  workflow: Workflow,
  outputs: ReadonlyMap<string, StepOutput>,
  workers: ReadonlyMap<string, readonly string[]>,
): PatternResult {
  const result = outputs.get(workflow.result)!;
  const leftOut = workflow.steps.flatMap((step) =>
    (outputs.get(step.id)?.leftOut ?? []).map((text) => `${step.id}: ${text}`),
  );
  const markdown = [
    `# ${workflow.name}`,
    "",
    result.markdown.trim(),
    ...(leftOut.length > 0 ? ["", "## Left out", ...leftOut.map((line) => `- ${line}`)] : []),
    "",
    "## Steps",
    ...workflow.steps.map((step) => {
      const ids = workers.get(step.id) ?? [];
      return `- ${step.id}${step.id === workflow.result ? " (the result)" : ""}: ${ids.join(", ") || "no workers"}`;
    }),
  ];
  const steps = Object.fromEntries(
    workflow.steps.map((step) => [
      step.id,
      { workers: workers.get(step.id) ?? [], ...(outputs.get(step.id)?.data ?? {}) },
    ]),
  );
  return {
    markdown: `${markdown.join("\n").trim()}\n`,
    data: {
      workflow: workflow.name,
      file: workflow.file,
      result: workflow.result,
      answer: result.data,
      steps,
      leftOut,
    },
  };
}
