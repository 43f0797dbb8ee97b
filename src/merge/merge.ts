import {
  type Agent,
  type Evidence,
  type Finding,
  type MergedFinding,
  type Severity,
  type Source,
  severityRank,
  type WorkerFindings,
} from "./finding.js";
import { groupLinked } from "./groups.js";
import { type Place, placeOf, samePlace } from "./location.js";
import { similarTitles, titleWords } from "./title.js";

// The "Triangulated review" deliverable: one ranked list with duplicates removed. Merging is plain code,
// not another model call, so the same answers always give the same list and no evidence can be lost.

/** A finding with who reported it and what matching needs, worked out once. */
interface Report {
  readonly finding: Finding;
  readonly workerId: string;
  readonly lens: string;
  readonly agent: Agent;
  readonly place: Place | undefined;
  readonly words: ReadonlySet<string>;
}

/**
 * Folds duplicate findings from all workers into one ranked list. Duplicates share a place (same file,
 * overlapping lines) or have similar titles, transitively. Ranked by severity, then how many lenses,
 * backends and workers reported it, then title. Inputs are sorted by worker first, so their order does not matter.
 */
export function mergeFindings(inputs: readonly WorkerFindings[]): MergedFinding[] {
  const reports = [...inputs].sort(byWorker).flatMap(({ workerId, lens, findings, backend, model }) =>
    findings.map(
      (finding): Report => ({
        finding,
        workerId,
        lens: lens.trim(),
        agent: { ...(backend && { backend }), ...(model && { model }) },
        place: placeOf(finding.location),
        words: titleWords(finding.title),
      }),
    ),
  );
  const duplicates = (a: Report, b: Report): boolean =>
    samePlace(a.place, b.place) || similarTitles(a.words, b.words);
  return groupLinked(reports.length, (a, b) => duplicates(reports[a]!, reports[b]!))
    .map((group) => fold(group.map((index) => reports[index]!)))
    .sort(byRank);
}

function fold(reports: readonly Report[]): MergedFinding {
  const findings = reports.map((report) => report.finding);
  return {
    title: headline(findings),
    severity: worst(findings.map((finding) => finding.severity)),
    locations: distinct(
      findings.map((finding) => finding.location.trim()),
      (location) => location.toLowerCase().replace(/^(?:\.\/)+/, ""),
    ),
    lenses: sortedDistinct(reports.map((report) => report.lens)),
    workers: sortedDistinct(reports.map((report) => report.workerId)),
    backends: sortedDistinct(reports.map((report) => report.agent.backend ?? "")),
    evidence: reports.map(
      (report): Evidence => ({
        workerId: report.workerId,
        lens: report.lens,
        ...report.agent,
        text: report.finding.evidence,
      }),
    ),
    recommendations: distinct(
      findings.map((finding) => finding.recommendation.trim()),
      (text) => text.toLowerCase().replace(/\s+/g, " "),
    ),
    sources: mergeSources(findings.flatMap((finding) => finding.sources ?? [])),
  };
}

/** The title of the most severe report; among equals the most used wording, then the first alphabetically. */
function headline(findings: readonly Finding[]): string {
  const uses = new Map<string, number>();
  for (const { title } of findings) uses.set(title.trim(), (uses.get(title.trim()) ?? 0) + 1);
  const ranked = [...findings].sort(
    (a, b) =>
      severityRank(a.severity) - severityRank(b.severity) ||
      (uses.get(b.title.trim()) ?? 0) - (uses.get(a.title.trim()) ?? 0) ||
      compareText(a.title.trim(), b.title.trim()),
  );
  return ranked[0]?.title.trim() ?? "";
}

const worst = (severities: readonly Severity[]): Severity =>
  severities.reduce((a, b) => (severityRank(b) < severityRank(a) ? b : a), "info");

/** Non-empty values, first wording kept, in order of first appearance. */
function distinct(values: readonly string[], keyOf: (value: string) => string): string[] {
  const seen = new Map<string, string>();
  for (const value of values) {
    const key = keyOf(value);
    if (key !== "" && !seen.has(key)) seen.set(key, value);
  }
  return [...seen.values()];
}

const sortedDistinct = (values: readonly string[]): string[] =>
  [...new Set(values.filter((value) => value !== ""))].sort(compareText);

/**
 * One entry per work: the same URL, or the same title when one of them has no URL. The first citation
 * is kept, with any authors, year or URL it lacks taken from later ones.
 */
function mergeSources(sources: readonly Source[]): Source[] {
  const merged: Source[] = [];
  for (const source of sources) {
    const at = merged.findIndex((kept) => sameWork(kept, source));
    const kept = merged[at];
    if (kept) merged[at] = fillIn(kept, source);
    else merged.push(source);
  }
  return merged;
}

function sameWork(a: Source, b: Source): boolean {
  if (a.url && b.url) return urlKey(a.url) === urlKey(b.url);
  return textKey(a.title) === textKey(b.title);
}

const urlKey = (url: string): string =>
  url
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\/(?:www\.)?/, "")
    .replace(/\/+$/, "");

const textKey = (text: string): string => text.toLowerCase().replace(/\s+/g, " ").trim();

function fillIn(kept: Source, later: Source): Source {
  const url = kept.url || later.url;
  const authors = kept.authors || later.authors;
  const year = kept.year || later.year;
  return { title: kept.title, ...(url && { url }), ...(authors && { authors }), ...(year && { year }) };
}

/** Locale-independent, so the order is the same on every machine. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function byWorker(a: WorkerFindings, b: WorkerFindings): number {
  return compareText(a.workerId, b.workerId) || compareText(a.lens, b.lens);
}

function byRank(a: MergedFinding, b: MergedFinding): number {
  return (
    severityRank(a.severity) - severityRank(b.severity) ||
    b.lenses.length - a.lenses.length ||
    b.backends.length - a.backends.length ||
    b.workers.length - a.workers.length ||
    compareText(a.title.toLowerCase(), b.title.toLowerCase()) ||
    compareText(a.title, b.title) ||
    compareText(a.locations.join("\n"), b.locations.join("\n"))
  );
}
