import { CONTEXT_FIELDS, type FieldValues, packFromValues } from "../context/fields.js";
import { type ContextPack, fieldWithNul, isEmptyContextPack } from "../context/pack.js";
import { findMissingPointer, missingPointerMessage } from "../context/pointers.js";
import { describeIssue, problemOf } from "./issues.js";
import type { Problem } from "./problem.js";
import { inlineContextSchema } from "./schema.js";

/** Where a workflow's context pack comes from: a pack file beside it, or a mapping in the workflow itself. */
export type ContextSource =
  | { readonly kind: "file"; readonly file: string }
  | { readonly kind: "inline"; readonly pack: ContextPack; readonly pointerIndexes: readonly number[] };

const KEYS_HINT = CONTEXT_FIELDS.map((field) => field.key).join(", ");

/** Reads the `context:` field: the source, or what is wrong with it. */
export function contextSourceOf(value: unknown): ContextSource | Problem {
  if (typeof value === "string") return { kind: "file", file: value };
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return {
      path: ["context"],
      message: `expected a context pack file (.yaml, .yml or .md) or a mapping of ${KEYS_HINT}`,
    };
  }
  const parsed = inlineContextSchema.safeParse(value, { error: describeIssue });
  if (!parsed.success) return problemOf(parsed.error.issues[0]!, ["context"]);
  const values: Record<string, unknown> = {};
  for (const field of CONTEXT_FIELDS) {
    const given = [...new Set([field.key, field.name])].filter((key) => parsed.data[key] != null);
    if (given.length > 1) {
      return { path: ["context", field.name], message: `repeats "${field.key}": keep one of them` };
    }
    const raw = given[0] === undefined ? undefined : parsed.data[given[0]];
    values[field.name] = Array.isArray(raw) ? raw.filter((item) => item !== null) : raw;
  }
  const pack = packFromValues(values as FieldValues);
  if (isEmptyContextPack(pack)) {
    return { path: ["context"], message: `the context pack is empty: fill in at least one of ${KEYS_HINT}` };
  }
  const nul = fieldWithNul(pack);
  if (nul) return { path: ["context", nul], message: "contains a NUL byte: remove it" };
  return { kind: "inline", pack, pointerIndexes: pointerIndexes(value as Record<string, unknown>) };
}

/** The first pointer of an inline pack that names a missing file or folder, placed on its line. */
export function missingPointer(source: ContextSource & { kind: "inline" }, cwd: string): Problem | undefined {
  const missing = findMissingPointer(source.pack, cwd);
  if (!missing) return undefined;
  const index = source.pointerIndexes[missing.index];
  return {
    path: ["context", "pointers"],
    ...(index === undefined ? {} : { at: ["context", "pointers", index] }),
    message: missingPointerMessage(missing.path, cwd),
  };
}

// packFromValues drops blank pointers; keep each kept one's place in the file so an error can point at it.
function pointerIndexes(value: Record<string, unknown>): number[] {
  const raw = value.pointers;
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((item, index) => (typeof item === "string" && item.trim() !== "" ? [index] : []));
}
