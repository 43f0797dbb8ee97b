import { formatApa7 } from "./apa.js";
import type { MergedFinding } from "./finding.js";
import { agentText } from "./render.js";

// The boss rule: a synthesis worker gets the curated findings, never a worker's raw transcript. Taking only
// `MergedFinding`s makes that structural; each piece of evidence is also squeezed to one bounded line so
// the prompt stays small however verbose the reviewers were.

export interface SynthesisOptions {
  /**
   * Longest piece of evidence kept, in characters; longer ones are cut with "…".
   * @default 500
   */
  readonly maxEvidenceChars?: number;
}

/** The merged findings as compact plain text for a synthesis worker's prompt. */
export function renderFindingsForSynthesis(
  merged: readonly MergedFinding[],
  options: SynthesisOptions = {},
): string {
  if (merged.length === 0) return "No findings were reported.\n";
  const limit = options.maxEvidenceChars ?? 500;
  const blocks = merged.map((finding, index) => {
    const lines = [`F${index + 1} [${finding.severity}] ${finding.title}`];
    if (finding.locations.length > 0) lines.push(`  where: ${finding.locations.join("; ")}`);
    const backends = finding.backends.length > 0 ? `; backends: ${finding.backends.join(", ")}` : "";
    lines.push(
      `  reported by: ${finding.workers.join(", ")} (lenses: ${finding.lenses.join(", ") || "none"}${backends})`,
    );
    lines.push("  evidence:");
    for (const evidence of finding.evidence) {
      const agent = agentText(evidence);
      const who = `${evidence.lens ? `${evidence.lens}/` : ""}${evidence.workerId}${agent ? ` (${agent})` : ""}`;
      lines.push(`  - ${who}: ${clip(evidence.text, limit) || "(none given)"}`);
    }
    if (finding.recommendations.length > 0) {
      lines.push("  recommendations:", ...finding.recommendations.map((text) => `  - ${clip(text, limit)}`));
    }
    if (finding.sources.length > 0) {
      lines.push("  sources:", ...finding.sources.map((source) => `  - ${formatApa7(source)}`));
    }
    return lines.join("\n");
  });
  return `${merged.length} merged findings, most important first:\n\n${blocks.join("\n\n")}\n`;
}

function clip(text: string, limit: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= limit ? flat : `${flat.slice(0, Math.max(0, limit - 1)).trimEnd()}…`;
}
