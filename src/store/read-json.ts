import type { Stats } from "node:fs";
import type { z } from "zod";
import { BatonError, errnoOf } from "../errors.js";
import { readStoreFile } from "./no-follow.js";

/** A stored file that could not be read back, and why. */
export type ReadProblem =
  | { readonly kind: "missing" }
  | { readonly kind: "corrupt"; readonly detail: string };
export type ReadOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | ({ readonly ok: false } & ReadProblem);

/**
 * A JSON file of the store at `home`, parsed and checked against `schema`, never read through a link.
 * `witness` is told what the file looked like when it was read (the supervisor vouches for it then).
 */
export async function readJson<T>(
  home: string,
  path: string,
  schema: z.ZodType<T>,
  witness?: (stats: Stats) => void,
): Promise<ReadOutcome<T>> {
  let text: string;
  try {
    const read = await readStoreFile(home, path);
    if (!read) return { ok: false, kind: "missing" };
    text = read.text;
    witness?.(read.stats);
  } catch (error) {
    return {
      ok: false,
      kind: "corrupt",
      detail:
        error instanceof BatonError
          ? error.message
          : `cannot read ${path}: ${errnoOf(error) ?? String(error)}`,
    };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, kind: "corrupt", detail: `${path} is not valid JSON` };
  }
  const parsed = schema.safeParse(dropNulls(data));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, kind: "corrupt", detail: `${path}: ${issue?.path.join(".")} ${issue?.message}` };
  }
  return { ok: true, value: parsed.data };
}

/** JSON has no `undefined`; optional fields are simply absent. Nulls from hand edits count as absent. */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, dropNulls(v)]),
    );
  }
  return value;
}
