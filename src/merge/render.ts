import { formatApa7 } from "./apa.js";
import type { Agent, MergedFinding } from "./finding.js";

export interface MarkdownOptions {
  /** A `#` heading above the list; none when absent. */
  readonly title?: string;
  /**
   * How many reviewers took part, for "2 of 3 reviewers". A reviewer that found nothing appears in no
   * finding, so only the caller knows the true number.
   * @default the number of distinct workers across `merged`
   */
  readonly reviewers?: number;
}

/** The merged findings as a ranked Markdown list for a person: evidence, recommendations and sources under each. */
export function renderMergedMarkdown(
  merged: readonly MergedFinding[],
  options: MarkdownOptions = {},
): string {
  const reviewers = options.reviewers ?? new Set(merged.flatMap((finding) => finding.workers)).size;
  const lines: string[] = options.title ? [`# ${options.title}`, ""] : [];
  if (merged.length === 0) lines.push("No findings.");
  merged.forEach((finding, index) => {
    const marker = `${index + 1}. `;
    const pad = " ".repeat(marker.length); // nested lines must start at the item's text to stay inside it
    const where = finding.locations.length > 0 ? ` — ${finding.locations.join(", ")}` : "";
    const lensLabel = finding.lenses.length === 1 ? "lens" : "lenses";
    const who = `${finding.workers.length} of ${Math.max(reviewers, finding.workers.length)} reviewers`;
    const lenses = finding.lenses.length > 0 ? `${lensLabel}: ${finding.lenses.join(", ")}; ` : "";
    const backends = finding.backends.length > 0 ? `; ${backendsText(finding.backends)}` : "";
    lines.push(
      `${marker}[${finding.severity.toUpperCase()}] ${finding.title}${where} (${lenses}${who}${backends})`,
    );
    for (const evidence of finding.evidence) {
      const seenBy = [evidence.lens, evidence.workerId, agentText(evidence)].filter(Boolean).join(", ");
      lines.push(bullet(pad, `Evidence (${seenBy}): ${evidence.text.trim() || "(none given)"}`));
    }
    const [only, ...more] = finding.recommendations;
    if (only !== undefined && more.length === 0) lines.push(bullet(pad, `Recommendation: ${only}`));
    if (more.length > 0) {
      lines.push(`${pad}- Recommendations:`);
      for (const text of finding.recommendations) lines.push(bullet(`${pad}  `, text));
    }
    if (finding.sources.length > 0) {
      lines.push(`${pad}- Sources:`);
      for (const source of finding.sources) lines.push(bullet(`${pad}  `, formatApa7(source)));
    }
  });
  return `${lines.join("\n")}\n`;
}

const backendsText = (backends: readonly string[]): string =>
  `${backends.length === 1 ? "backend" : "backends"}: ${backends.join(", ")}`;

/** `claude claude-sonnet-4-5`, `codex` (its default model), or empty when the backend is not known. */
export function agentText(agent: Agent): string {
  if (!agent.backend) return "";
  return agent.model ? `${agent.backend} ${agent.model}` : agent.backend;
}

/** A bullet whose continuation lines stay inside it. */
const bullet = (pad: string, text: string): string => `${pad}- ${text.trim().replaceAll("\n", `\n${pad}  `)}`;
