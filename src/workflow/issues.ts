import type { core, z } from "zod";
import { closest } from "../context/suggest.js";
import type { FieldPath, Problem } from "./problem.js";
import { CONTEXT_KEYS, STEP_KEYS, WORKFLOW_KEYS } from "./schema.js";

// zod's own wording ("Invalid input: expected array, received string") is written for programmers; a workflow
// file is written by people, so the two mistakes they make most, a wrong type and a misspelt value or key,
// are said in the file's own terms, with a guess where one is cheap.

const MISSING = "missing";

/** Pass as `safeParse(data, { error: describeIssue })`. */
export function describeIssue(issue: core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) return MISSING;
    return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${kindOf(issue.input)}`;
  }
  if (issue.code === "invalid_value") {
    const choices = issue.values.map(String);
    const guess = typeof issue.input === "string" ? closest(issue.input, choices) : undefined;
    return `expected one of ${choices.join(", ")}, got ${kindOf(issue.input)}${guess ? `: did you mean "${guess}"?` : ""}`;
  }
  return undefined;
}

/** One zod issue as a problem in the file; `base` is where the checked value sits in the file. */
export function problemOf(issue: z.core.$ZodIssue, base: FieldPath = []): Problem {
  const path = [...base, ...(issue.path as (string | number)[])];
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const known = keysAt(path);
    const guess = closest(key, known);
    const hint = guess ? `did you mean "${guess}"?` : `expected one of ${known.join(", ")}`;
    return { path, at: [...path, key], message: `unknown key "${key}": ${hint}` };
  }
  const message = issue.message.replace(/\s+/g, " ");
  return message === MISSING ? { path, message, missing: true } : { path, message };
}

function keysAt(path: FieldPath): string[] {
  if (path[0] === "context") return CONTEXT_KEYS;
  if (path[0] === "steps") return STEP_KEYS;
  return WORKFLOW_KEYS;
}

const TYPE_NAMES: Record<string, string> = {
  array: "a list",
  object: "a mapping",
  string: "text",
  boolean: "true or false",
  number: "a number",
};

function kindOf(value: unknown): string {
  if (value === null) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return `"${value.length > 40 ? `${value.slice(0, 39)}…` : value}"`;
  if (typeof value === "object") return "a mapping";
  return String(value);
}
