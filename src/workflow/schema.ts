import { z } from "zod";
import { CONTEXT_FIELDS } from "../context/fields.js";
import { ROLES } from "../worker/types.js";

// The shape of a workflow file, checked at the edge where it enters. Rules that span fields (who may write,
// what a merge step may hold, which ids exist) are checked afterwards in check.ts and graph.ts, where each
// can say exactly what to change.

export const STEP_ID = /^[a-z0-9_-]+$/;

/** `{{item}}` as a fan-out step's task or lens may spell it. */
export const ITEM = /\{\{\s*item\s*\}\}/g;

// One string where a list is expected is a list of one: `depends_on: scout` reads as it should.
const listOf = <T extends z.ZodType>(item: T, empty?: string) =>
  z.preprocess(
    (value) => (typeof value === "string" ? [value] : value),
    empty ? z.array(item).min(1, empty) : z.array(item),
  );

const stepId = z.string().regex(STEP_ID, "must be lowercase letters, digits, - and _");
const text = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .refine((value) => !value.includes("\0"), "contains a NUL byte: remove it");

/** The most workers one `for_each` step may fan out to. @default 100 */
export const MAX_FOR_EACH = 100;

export const stepSchema = z.strictObject({
  id: stepId,
  role: z.enum(ROLES).optional(),
  task: text.optional(),
  lens: text.optional(),
  for_each: z
    .array(text)
    .min(1, "must list at least one item")
    .max(
      MAX_FOR_EACH,
      `lists more than ${MAX_FOR_EACH} items: split the step, or give each worker several items`,
    )
    .optional(),
  depends_on: listOf(stepId).optional(),
  structured: z.boolean().optional(),
  write: listOf(text, "must list at least one path").optional(),
  merge: listOf(stepId, "must name at least one step").optional(),
  backend: text.optional(),
  model: text.optional(),
});

export const workflowSchema = z.strictObject({
  name: text.optional(),
  // A file name or an inline pack; which one is decided, and checked, in a second pass (see parse.ts).
  context: z.unknown().optional(),
  cwd: text.optional(),
  backend: text.optional(),
  model: text.optional(),
  steps: z.array(stepSchema).min(1, "must list at least one step"),
  result: stepId.optional(),
});

export type StepSpec = z.output<typeof stepSchema>;
export type WorkflowSpec = z.output<typeof workflowSchema>;

// An inline context pack takes the keys a context pack file takes, in both spellings.
const list = z.preprocess(
  (value) => (typeof value === "string" ? [value] : value),
  z.array(z.string().nullable()).nullish(),
);
export const inlineContextSchema = z.strictObject(
  Object.fromEntries(
    CONTEXT_FIELDS.flatMap((field) => {
      const schema = field.kind === "list" ? list : z.string().nullish();
      return [...new Set([field.key, field.name])].map((key) => [key, schema]);
    }),
  ),
);

export const STEP_KEYS = Object.keys(stepSchema.shape);
export const WORKFLOW_KEYS = Object.keys(workflowSchema.shape);
export const CONTEXT_KEYS = Object.keys(inlineContextSchema.shape);
