import { z } from "zod";
import { BatonError } from "../errors.js";
import { valueAt } from "../input-path.js";
import { UPDATE_SHAPE } from "./limits.js";

// Plans arrive from agents (stdin), from JavaScript callers and from disk: all edges, all checked.

/** Where a step stands; the names are those of Codex's `update_plan`. */
export const STEP_STATUSES = ["pending", "in_progress", "completed"] as const;

const status = z.enum(STEP_STATUSES);
const step = z.strictObject({ step: z.string(), status });

/** Codex's `update_plan` argument; Codex may send `"explanation": null`. */
const planUpdate = z.strictObject({
  explanation: z.string().nullish(),
  plan: z.array(step),
});

/** A plan as written to `plan.json` and to each line of `plan-history.jsonl`. */
export const storedPlan = z.object({
  explanation: z.string().optional(),
  steps: z.array(z.object({ step: z.string(), status })),
  updatedAt: z.string(),
});

export { UPDATE_SHAPE };

/** A checked `update_plan` argument; plan.ts names it `PlanUpdate` (kept apart to avoid an import cycle). */
export interface ParsedUpdate {
  readonly explanation?: string;
  readonly plan: readonly z.infer<typeof step>[];
}

/** `value` as a plan update, or a "usage" BatonError naming the first wrong field. */
export function parsePlanUpdate(value: unknown): ParsedUpdate {
  const parsed = planUpdate.safeParse(value);
  if (!parsed.success) {
    throw new BatonError(
      "usage",
      `the plan update ${describeIssue(parsed.error, value)}: send ${UPDATE_SHAPE}`,
    );
  }
  const { explanation, plan } = parsed.data;
  return { ...(explanation == null ? {} : { explanation }), plan };
}

/**
 * One zod issue of `input` as one line that names the field, e.g. `field "plan[1].status" is missing`.
 * An unknown field is named first: `"steps"` for `"plan"` is a likelier slip than a missing `"plan"`.
 */
export function describeIssue(error: z.ZodError, input: unknown): string {
  const issue = error.issues.find((i) => i.code === "unrecognized_keys") ?? error.issues[0];
  if (!issue) return "is invalid";
  const where = issue.path.length > 0 ? `field "${fieldPath(issue.path)}"` : "value";
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((key) => `"${key}"`).join(", ");
    return issue.path.length > 0 ? `${where} has unknown field ${keys}` : `has unknown field ${keys}`;
  }
  if (issue.path.length > 0 && valueAt(input, issue.path) === undefined) return `${where} is missing`;
  // zod's own words ("Invalid input: expected string, received number") are for programmers.
  if (issue.code === "invalid_type")
    return `${where} must be ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
  if (issue.code === "invalid_value")
    return `${where} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  return `${where} is wrong (${issue.message.replace(/\s+/g, " ")})`;
}

const TYPE_WORDS: Record<string, string> = {
  string: "text",
  array: "a list",
  object: "an object",
  boolean: "true or false",
  number: "a number",
};

function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, index) => (typeof key === "number" ? `[${key}]` : `${index === 0 ? "" : "."}${String(key)}`))
    .join("");
}
