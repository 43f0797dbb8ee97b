import { isMap, isScalar, LineCounter, type Node, parseDocument } from "yaml";
import { z } from "zod";
import { CONTEXT_FIELDS, type ContextField, type FieldValues, packFromValues } from "./fields.js";
import { type ParsedPack, usageAt } from "./parsed.js";
import { closest } from "./suggest.js";

// A list field takes one string or a list of strings; a blank item (`- `) is dropped, not an error.
const list = z.preprocess(
  (value) => (typeof value === "string" ? [value] : value),
  z.array(z.string().nullable()).nullish(),
);
const text = z.string().nullish();

// Both spellings of every key: `non_goals` as in YAML habit, `nonGoals` as in the library's type.
const fileSchema = z.strictObject(
  Object.fromEntries(
    CONTEXT_FIELDS.flatMap((field) => {
      const schema = field.kind === "list" ? list : text;
      return field.key === field.name
        ? [[field.key, schema]]
        : [
            [field.key, schema],
            [field.name, schema],
          ];
    }),
  ),
);

const KEYS = CONTEXT_FIELDS.flatMap((field) =>
  field.key === field.name ? [field.key] : [field.key, field.name],
);
const fieldOfKey = (key: string): ContextField | undefined =>
  CONTEXT_FIELDS.find((field) => field.key === key || field.name === key);

/** Reads a YAML context pack; every error names `file`, the line, and what is wrong. */
export function parseYamlPack(source: string, file: string): ParsedPack {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false });
  const lineOf = (node: unknown): number | undefined => {
    const range = (node as Node | null)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };

  const syntax = doc.errors[0];
  if (syntax) throw usageAt(file, lines.linePos(syntax.pos[0]).line, `invalid YAML: ${syntax.message}`);
  if (doc.contents === null) return { pack: packFromValues({}), pointerLines: [] };
  if (!isMap(doc.contents)) {
    throw usageAt(
      file,
      lineOf(doc.contents),
      `expected fields such as "goal:" and "constraints:" at the top`,
    );
  }
  const keyLine = (key: string): number | undefined =>
    lineOf(
      doc.contents && isMap(doc.contents)
        ? doc.contents.items.find((p) => keyName(p.key) === key)?.key
        : null,
    );

  const parsed = fileSchema.safeParse(plainData(doc, file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === "unrecognized_keys") {
      const key = issue.keys[0] ?? "";
      const guess = closest(key, KEYS);
      const hint = guess ? `did you mean "${guess}"?` : `expected one of ${KEYS.join(", ")}`;
      throw usageAt(file, keyLine(key), `unknown field "${key}": ${hint}`);
    }
    const [key, index] = issue?.path ?? [];
    const field = fieldOfKey(String(key));
    const expected = field?.kind === "list" ? "a string or a list of strings" : "a string";
    const message =
      typeof index === "number"
        ? `item ${index + 1} of "${String(key)}" must be a string`
        : `"${String(key)}" must be ${expected}`;
    throw usageAt(file, lineOf(doc.getIn(issue?.path ?? [], true)) ?? keyLine(String(key)), message);
  }

  const values: Record<string, string | string[]> = {};
  for (const field of CONTEXT_FIELDS) {
    const given = [field.key, field.name].filter(
      (key, i, all) => all.indexOf(key) === i && key in parsed.data,
    );
    if (given.length > 1) {
      throw usageAt(file, keyLine(field.name), `"${field.name}" repeats "${field.key}": keep one of them`);
    }
    const value = given[0] === undefined ? undefined : parsed.data[given[0]];
    if (typeof value === "string") values[field.name] = value;
    else if (Array.isArray(value)) values[field.name] = value.filter((item): item is string => item !== null);
  }
  const pack = packFromValues(values as FieldValues);
  return { pack, pointerLines: pointerLines(doc, lineOf) };
}

/**
 * The document as plain data. Aliases that expand past a limit (a "billion laughs" file) are refused
 * rather than expanded.
 */
export function plainData(doc: ReturnType<typeof parseDocument>, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const why = /alias/i.test((error as Error).message)
      ? "its aliases (*name) expand too far: write the values out"
      : (error as Error).message;
    throw usageAt(file, undefined, `invalid YAML: ${why}`);
  }
}

const MAX_ALIAS_COUNT = 100;

function keyName(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

// The line of each kept pointer, in the order packFromValues keeps them (blank items dropped).
function pointerLines(
  doc: ReturnType<typeof parseDocument>,
  lineOf: (node: unknown) => number | undefined,
): (number | undefined)[] {
  const node = doc.get("pointers", true) ?? null;
  if (isScalar(node)) return [lineOf(node)];
  const items = (node as { items?: unknown[] } | null)?.items ?? [];
  return items
    .filter((item) => isScalar(item) && typeof item.value === "string" && item.value.trim() !== "")
    .map(lineOf);
}
