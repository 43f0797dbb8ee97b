import { type core, z } from "zod";
import { type Finding, SEVERITIES, type Source } from "./finding.js";

// A worker's answer is untrusted text from a model, so it is validated here, at the edge, and every way it
// can be wrong becomes one line that names the field: the caller shows it or feeds it back to the worker.

const SEVERITY_CHOICES = `expected one of ${SEVERITIES.join("|")}`;

/** Null, missing and blank all mean "unknown", which `Source` spells as an absent field. */
const unknownable = z
  .string()
  .nullish()
  .transform((value) => value?.trim() || undefined);

const sourceSchema = z.object({
  title: z.string().trim().min(1, "must not be empty"),
  url: unknownable,
  authors: unknownable,
  year: unknownable,
});

const findingSchema = z.object({
  title: z.string().trim().min(1, "must not be empty"),
  // Models write "High" as often as "high"; the case carries no meaning.
  severity: z
    .string({ error: SEVERITY_CHOICES })
    .trim()
    .toLowerCase()
    .pipe(z.enum(SEVERITIES, { error: SEVERITY_CHOICES })),
  location: z.string().trim(),
  evidence: z.string().trim(),
  recommendation: z.string().trim(),
  sources: z.array(sourceSchema).nullish(),
});

const answerSchema = z.object({
  // A missing summary loses nothing the merge needs, so it is forgiven; missing findings are not.
  summary: z.string().trim().nullish(),
  findings: z.array(findingSchema),
});

export type ParsedFindings =
  | { readonly ok: true; readonly summary: string; readonly findings: Finding[] }
  | { readonly ok: false; readonly error: string };

/** Reads a worker's JSON answer (bare or in one ```json fence) into findings, or says what is wrong with it. */
export function parseFindings(answer: string): ParsedFindings {
  const text = unfence(answer.trim());
  if (text === "") return { ok: false, error: "the answer is empty; expected a JSON object with findings" };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `the answer is not JSON: ${oneLine((error as Error).message)}` };
  }
  const parsed = answerSchema.safeParse(data, { error: describeIssue });
  if (!parsed.success) return { ok: false, error: describeError(parsed.error) };
  return {
    ok: true,
    summary: parsed.data.summary ?? "",
    findings: parsed.data.findings.map(({ sources, ...rest }) =>
      sources && sources.length > 0 ? { ...rest, sources: sources.map(toSource) } : rest,
    ),
  };
}

const FENCE = /^```[ \t]*(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n[ \t]*```$/i;

const unfence = (text: string): string => FENCE.exec(text)?.[1]?.trim() ?? text;

// Leaves unknown fields out, so a source reads the same whether the model wrote null, "" or nothing.
const toSource = ({ title, url, authors, year }: z.output<typeof sourceSchema>): Source => ({
  title,
  ...(url && { url }),
  ...(authors && { authors }),
  ...(year && { year }),
});

/** Replaces zod's generic wording for the two mistakes models make most: a missing field and a wrong type. */
function describeIssue(issue: core.$ZodRawIssue): string | undefined {
  if (issue.code !== "invalid_type") return undefined;
  if (issue.input === undefined) return "missing";
  return `expected ${issue.expected}, got ${kindOf(issue.input)}`;
}

const kindOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value;

function describeError(error: z.ZodError): string {
  const [first, ...rest] = error.issues;
  if (!first) return "the answer does not match the findings schema";
  const more =
    rest.length > 0 ? ` (and ${rest.length} more ${rest.length === 1 ? "problem" : "problems"})` : "";
  return `${pathOf(first.path)}: ${oneLine(first.message)}${more}`;
}

/** `["findings", 2, "severity"]` becomes `findings[2].severity`; the root is called `answer`. */
function pathOf(path: readonly PropertyKey[]): string {
  let out = "answer";
  for (const key of path) out += typeof key === "number" ? `[${key}]` : `.${String(key)}`;
  return out.replace(/^answer\./, "");
}

const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim();
