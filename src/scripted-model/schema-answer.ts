/**
 * The JSON schema a Responses request asks the answer to follow (`text.format`, what codex sends for
 * `--output-schema`), if any.
 */
export function requestedSchema(body: Record<string, unknown>): unknown {
  const format = (body.text as { format?: { type?: unknown; schema?: unknown } } | undefined)?.format;
  return format?.type === "json_schema" ? format.schema : undefined;
}

/**
 * A small value that follows `schema`, of the strict structured-output kind codex sends (objects with
 * every property required, arrays, enums, strings, numbers, booleans, null): every property, one item
 * for an array, the first value of an enum, and `text` for every string. What a scripted model answers
 * a worker that must answer in a form (a pattern's reviewers, verifiers, ...).
 */
export function exampleOf(schema: unknown, text: string, depth = 0): unknown {
  if (!schema || typeof schema !== "object" || depth > MAX_DEPTH) return null;
  const { type, enum: values, properties, items } = schema as Record<string, unknown>;
  if (Array.isArray(values) && values.length > 0) return values[0];
  const kind = Array.isArray(type) ? (type.find((t) => t !== "null") ?? "null") : type;
  switch (kind) {
    case "object":
      return Object.fromEntries(
        Object.entries((properties as Record<string, unknown> | undefined) ?? {}).map(([key, value]) => [
          key,
          exampleOf(value, text, depth + 1),
        ]),
      );
    case "array":
      return items ? [exampleOf(items, text, depth + 1)] : [];
    case "string":
      return text;
    case "number":
    case "integer":
      return 1;
    case "boolean":
      return true;
    default:
      return null;
  }
}

/** Deeper than any answer form: a schema that refers to itself without end stops here. */
const MAX_DEPTH = 16;
