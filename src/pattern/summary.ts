import type { Baton } from "../client/baton.js";

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
  for (const worker of workers) {
    const result = await baton.result(worker.id).catch(() => undefined);
    const heading = `## ${worker.id}${worker.label ? ` (${worker.label})` : ""}: ${result?.state ?? "unknown"}`;
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
  return sections.join("\n");
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
