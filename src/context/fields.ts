import type { ContextPack } from "./pack.js";

/** A field of a context pack, with its spellings in YAML keys, Markdown headings and prompts. */
export interface ContextField {
  readonly name: keyof ContextPack;
  /** The YAML key; the camelCase `name` is accepted too. */
  readonly key: string;
  /** The Markdown heading and the label in a rendered pack. */
  readonly heading: string;
  /** `text` holds one string; `list` holds several items. */
  readonly kind: "text" | "list";
}

export const CONTEXT_FIELDS: readonly ContextField[] = [
  { name: "goal", key: "goal", heading: "Goal", kind: "text" },
  { name: "nonGoals", key: "non_goals", heading: "Non-goals", kind: "list" },
  { name: "constraints", key: "constraints", heading: "Constraints", kind: "list" },
  { name: "pointers", key: "pointers", heading: "Pointers", kind: "list" },
  { name: "priorDecisions", key: "prior_decisions", heading: "Prior decisions", kind: "list" },
  { name: "successCheck", key: "success_check", heading: "Success check", kind: "text" },
];

/** Raw values by field, as a file or the flags gave them. */
export type FieldValues = Partial<Record<keyof ContextPack, string | readonly string[]>>;

/** Builds a pack from raw values: trims, drops blanks, and turns a lone string into a one-item list. */
export function packFromValues(values: FieldValues): ContextPack {
  const list = (value: string | readonly string[] | undefined): string[] =>
    (typeof value === "string" ? [value] : (value ?? [])).map((item) => item.trim()).filter(Boolean);
  const text = (value: string | readonly string[] | undefined): string | undefined => {
    const joined = (typeof value === "string" ? value : (value ?? []).join("\n")).trim();
    return joined || undefined;
  };
  const pack: ContextPack = {
    nonGoals: list(values.nonGoals),
    constraints: list(values.constraints),
    pointers: list(values.pointers),
    priorDecisions: list(values.priorDecisions),
  };
  const goal = text(values.goal);
  const successCheck = text(values.successCheck);
  return { ...(goal ? { goal } : {}), ...pack, ...(successCheck ? { successCheck } : {}) };
}
