import type { Plan, StepStatus } from "./plan.js";

const MARKS: Record<StepStatus, string> = { completed: "[x]", in_progress: "[>]", pending: "[ ]" };

/** The plan for people: the explanation on top, then one line per step marked done, doing or to do. */
export function renderPlan(plan: Plan): string {
  const steps = plan.steps.map((s) => `${MARKS[s.status]} ${s.step}`);
  return [...(plan.explanation ? [plan.explanation, ""] : []), ...steps].join("\n");
}
