import { SEVERITIES } from "./finding.js";

// The answer a worker must give, passed to `codex exec --output-schema`. Codex sends it to the model as a
// strict structured output, which accepts only a subset of JSON Schema: every object needs
// `additionalProperties: false` and must list *every* property in `required`, and validators such as
// `minLength` are refused. So nothing here is optional by omission. Where a value may be unknown we chose
// `["string", "null"]` over empty strings: null says "unknown" unambiguously, and `parseFindings` turns it
// back into an absent field. The `location` is the exception: it is a plain string, empty when a finding
// has no single place, because every finding is expected to have one and an empty string is easy to drop.

const nullableString = (description: string) => ({ type: ["string", "null"], description }) as const;

const source = {
  type: "object",
  additionalProperties: false,
  required: ["title", "url", "authors", "year"],
  properties: {
    title: { type: "string", description: "Title of the work." },
    url: nullableString("Where to read it, or null."),
    authors: nullableString('Authors as APA 7 lists them, e.g. "Lamport, L., & Shostak, R.", or null.'),
    year: nullableString('Year of publication, e.g. "2019", or null.'),
  },
} as const;

const finding = {
  type: "object",
  additionalProperties: false,
  required: ["title", "severity", "location", "evidence", "recommendation", "sources"],
  properties: {
    title: { type: "string", description: "The issue in a few words." },
    severity: { type: "string", enum: [...SEVERITIES] },
    location: {
      type: "string",
      description: 'Where it is, as "path:line" or "path:start-end"; empty when there is no single place.',
    },
    evidence: { type: "string", description: "What you saw that shows the issue is real." },
    recommendation: { type: "string", description: "What to do about it." },
    sources: { type: "array", description: "Works cited; empty when none.", items: source },
  },
} as const;

/**
 * JSON Schema (strict-structured-output subset) of a worker's findings answer. It names no `$schema`:
 * Claude Code's `--json-schema` refuses the 2020-12 meta-schema's URL ("no schema with key or ref"), and
 * nothing here needs more than what every draft shares.
 */
export const FINDINGS_JSON_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["summary", "findings"],
  properties: {
    summary: { type: "string", description: "One or two sentences on what you looked at and concluded." },
    findings: { type: "array", description: "Each distinct issue once; empty when none.", items: finding },
  },
} as const;
