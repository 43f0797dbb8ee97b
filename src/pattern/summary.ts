import type { Baton } from "../client/baton.js";
import { costText } from "../cost/cost.js";
import { type Spent, spentText, totalSpent } from "../cost/total.js";
import type { WorkerResult } from "../worker/types.js";

const TAIL_LINES = 15;
const TAIL_BYTES = 4096;

/**
 * What each worker got to, for a run or a wait cut short by Ctrl+C: its final answer, or, failing that,
 * the tail of its transcript. Markdown, one section per worker.
 */
export async function interruptedSummary(
  baton: Baton,
  workers: readonly { readonly id: string; readonly label?: string | undefined }[],
  title: string,
): Promise<string> {
  const sections = [`# ${title}`, ""];
  const results: WorkerResult[] = [];
  for (const worker of workers) {
    const result = await baton.result(worker.id).catch(() => undefined);
    if (result) results.push(result);
    const cost = result?.cost ? `, ${costText(result.cost)}` : "";
    const heading = `## ${worker.id}${worker.label ? ` (${worker.label})` : ""}: ${result?.state ?? "unknown"}${cost}`;
    sections.push(heading, "");
    if (result?.answer.trim()) {
      sections.push(result.answer.trim(), "");
      continue;
    }
    const tail = transcriptTail(await baton.logs(worker.id).catch(() => ""));
    sections.push(
      tail
        ? `No final answer. The end of its transcript:\n\n\`\`\`\n${tail}\n\`\`\``
        : "No final answer and no output.",
      "",
    );
  }
  if (results.length > 0) sections.splice(2, 0, `Together: ${spentText(totalSpent(results))}.`, "");
  return sections.join("\n");
}

/** What the workers `ids` used and cost together, as the supervisor lists them now. */
export async function spentBy(baton: Baton, ids: readonly string[]): Promise<Spent | undefined> {
  const wanted = new Set(ids);
  const listing = await baton.list().catch(() => undefined);
  return listing && totalSpent(listing.workers.filter((w) => wanted.has(w.id)));
}

/** The last lines of a transcript, without terminal escape sequences or carriage returns. */
export function transcriptTail(transcript: string): string {
  const plain = transcript
    .slice(-TAIL_BYTES)
    // CSI and OSC sequences, then any other control character but newline and tab.
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-_]/g, "")
    .replace(/\r\n?/g, "\n")
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "");
  return plain.trimEnd().split("\n").slice(-TAIL_LINES).join("\n").replaceAll("```", "'''");
}
