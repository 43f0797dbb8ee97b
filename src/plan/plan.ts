import { BatonError } from "../errors.js";
import { PLAN_LIMITS } from "./limits.js";
import { parsePlanUpdate, type STEP_STATUSES } from "./schema.js";

export type StepStatus = (typeof STEP_STATUSES)[number];

/** One short sentence of work and where it stands. */
export interface PlanStep {
  readonly step: string;
  readonly status: StepStatus;
}

/** An accepted version of the plan. */
export interface Plan {
  /** Why the plan looks the way it does; optional, as in `update_plan`. */
  readonly explanation?: string;
  readonly steps: readonly PlanStep[];
  /** When this version was accepted (ISO 8601). */
  readonly updatedAt: string;
}

/** The argument of an `update_plan` call: the full list of steps, which replaces the previous one. */
export interface PlanUpdate {
  readonly explanation?: string;
  readonly plan: readonly PlanStep[];
}

/** An accepted plan, and advice the caller should pass on (the plan is accepted regardless). */
export interface PlanOutcome {
  readonly plan: Plan;
  readonly warnings: readonly string[];
}

/** The plan size the orchestration skill recommends; outside it is allowed but warned about. */
export const RECOMMENDED_STEPS = { min: 3, max: 6 } as const;

export { PLAN_LIMITS } from "./limits.js";

/**
 * Checks `input` against the `update_plan` rules and returns the plan it makes, stamped `now`.
 * Throws a "usage" BatonError naming the broken rule: a plan needs a step, no step may be empty or span
 * lines, sizes stay within {@link PLAN_LIMITS}, and exactly one step is in_progress while any step is not
 * completed.
 */
export function checkPlan(input: PlanUpdate, now: Date = new Date()): PlanOutcome {
  const update = parsePlanUpdate(input);
  checkSize(update);
  const steps = update.plan.map(({ step, status }) => ({ step: step.trim(), status }));
  if (steps.length === 0) {
    throw new BatonError(
      "usage",
      "a plan needs at least one step: list 3 to 6 short steps, the first in_progress",
    );
  }
  steps.forEach(({ step }, index) => {
    if (step === "")
      throw new BatonError("usage", `step ${index + 1} is empty: give every step a short sentence`);
    // Each step is rendered as one line; a paragraph there is a sign the step should be split.
    if (/[\r\n]/.test(step)) {
      throw new BatonError(
        "usage",
        `step ${index + 1} (${quote(step)}) spans several lines: keep each step to one short sentence`,
      );
    }
  });
  checkProgress(steps);
  const explanation = update.explanation?.trim();
  const plan: Plan = {
    ...(explanation ? { explanation } : {}),
    steps,
    updatedAt: now.toISOString(),
  };
  return { plan, warnings: sizeWarnings(steps.length) };
}

/** At most {@link PLAN_LIMITS}: checked first, so that a runaway plan costs one line and no more work. */
function checkSize(update: PlanUpdate): void {
  const { steps, stepChars, explanationChars } = PLAN_LIMITS;
  if (update.plan.length > steps) {
    throw new BatonError(
      "usage",
      `the plan has ${count(update.plan.length)} steps, more than the ${steps} a plan may have: ` +
        `merge them into ${RECOMMENDED_STEPS.min} to ${RECOMMENDED_STEPS.max} short steps`,
    );
  }
  const long = update.plan.findIndex(({ step }) => step.length > stepChars);
  const step = update.plan[long];
  if (step) {
    throw new BatonError(
      "usage",
      `step ${long + 1} is ${count(step.step.length)} characters, more than the ${count(stepChars)} a step ` +
        "may have: keep each step to one short sentence",
    );
  }
  if ((update.explanation?.length ?? 0) > explanationChars) {
    throw new BatonError(
      "usage",
      `the explanation is ${count(update.explanation?.length ?? 0)} characters, more than the ` +
        `${count(explanationChars)} it may have: say in a few lines why the plan looks this way`,
    );
  }
}

const count = (n: number): string => n.toLocaleString("en-US");

/** Exactly one step in_progress while work remains, none once every step is completed. */
function checkProgress(steps: readonly PlanStep[]): void {
  const active = steps.filter((s) => s.status === "in_progress");
  const open = steps.filter((s) => s.status !== "completed");
  if (active.length > 1) {
    throw new BatonError(
      "usage",
      `${active.length} steps are in_progress (${quoteList(active)}): exactly one step may be in_progress ` +
        "while work remains; mark the others pending or completed",
    );
  }
  if (active.length === 0 && open.length > 0) {
    throw new BatonError(
      "usage",
      `no step is in_progress but ${open.length} ${open.length === 1 ? "is" : "are"} not completed ` +
        `(${quoteList(open)}): mark the step being worked on in_progress`,
    );
  }
}

function sizeWarnings(count: number): string[] {
  const { min, max } = RECOMMENDED_STEPS;
  const size = `the plan has ${count} step${count === 1 ? "" : "s"}; ${min} to ${max} is the recommended size`;
  if (count < min)
    return [`${size}: skip the plan for trivial work, or split the work into ${min} or more steps`];
  if (count > max) return [`${size}: merge steps so that each is one short sentence of real progress`];
  return [];
}

/** A new plan from step texts: the first in_progress, the rest pending. */
export function startPlan(steps: readonly string[], explanation?: string): PlanUpdate {
  return {
    ...(explanation === undefined ? {} : { explanation }),
    plan: steps.map((step, index) => ({ step, status: index === 0 ? "in_progress" : "pending" })),
  };
}

/**
 * `plan` with its in_progress step completed and the next pending step started: the first pending one after
 * it, else the first pending one before it (an update may have left one behind). The explanation is kept.
 */
export function advancePlan(plan: Plan): PlanUpdate {
  const current = plan.steps.findIndex((s) => s.status === "in_progress");
  if (current === -1) {
    throw new BatonError(
      "usage",
      "every step is already completed: set a new plan with `baton plan set STEP...`",
    );
  }
  const pending = (s: PlanStep, index: number) => s.status === "pending" && index !== current;
  const after = plan.steps.findIndex((s, index) => index > current && pending(s, index));
  const next = after === -1 ? plan.steps.findIndex(pending) : after;
  return {
    ...(plan.explanation === undefined ? {} : { explanation: plan.explanation }),
    plan: plan.steps.map((s, index): PlanStep => {
      if (index === current) return { step: s.step, status: "completed" };
      if (index === next) return { step: s.step, status: "in_progress" };
      return s;
    }),
  };
}

function quote(step: string): string {
  const line = step.split(/\r?\n/)[0] ?? "";
  return JSON.stringify(line.length > 40 ? `${line.slice(0, 39)}…` : line);
}

function quoteList(steps: readonly PlanStep[]): string {
  const shown = steps.slice(0, 3).map((s) => quote(s.step));
  return steps.length > 3 ? `${shown.join(", ")} and ${steps.length - 3} more` : shown.join(", ");
}
