// JSON Schemas for structured answers (codex --output-schema), strict-mode style: every property
// required, no extras. Each has a parser that returns a one-line reason on a bad answer.

import { z } from "zod";

const strict = (properties: Record<string, unknown>) => ({
  type: "object",
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
});

export const VERDICT_JSON_SCHEMA = strict({
  pass: { type: "boolean" },
  summary: { type: "string" },
  issues: { type: "array", items: { type: "string" } },
});

export const SELECTION_JSON_SCHEMA = strict({
  choice: { type: "string" },
  reason: { type: "string" },
  refined: { type: "string" },
});

const list = { type: "array", items: { type: "string" } };
export const CONTEXT_PACK_JSON_SCHEMA = strict({
  goal: { type: "string" },
  non_goals: list,
  constraints: list,
  pointers: list,
  prior_decisions: list,
  success_check: { type: "string" },
});

const verdict = z.object({ pass: z.boolean(), summary: z.string(), issues: z.array(z.string()) });
const selection = z.object({
  choice: z.string().min(1),
  reason: z.string().min(1),
  refined: z.string().min(1),
});
const pack = z.object({
  goal: z.string(),
  non_goals: z.array(z.string()),
  constraints: z.array(z.string()),
  pointers: z.array(z.string()),
  prior_decisions: z.array(z.string()),
  success_check: z.string(),
});

export type Verdict = z.infer<typeof verdict>;
export type Selection = z.infer<typeof selection>;
export type PackAnswer = z.infer<typeof pack>;

function parser<T>(schema: z.ZodType<T>) {
  return (answer: string): { ok: true; value: T } | { ok: false; error: string } => {
    const text = answer.trim().replace(/^```(?:json)?\s*\n([\s\S]*?)\n```$/, "$1");
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return { ok: false, error: "the answer is not valid JSON" };
    }
    const parsed = schema.safeParse(data);
    if (parsed.success) return { ok: true, value: parsed.data };
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${issue?.path.join(".") || "answer"}: ${issue?.message}` };
  };
}

export const parseVerdict = parser(verdict);
export const parseSelection = parser(selection);
export const parsePackAnswer = parser(pack);
