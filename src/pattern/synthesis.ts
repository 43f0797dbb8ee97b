import type { ContextPack } from "../context/index.js";
import { renderContextPack } from "../context/index.js";

/**
 * The prompt body of a synthesis worker. Its input is other workers' final answers (or the merged
 * findings), never their transcripts: the boss rule, made structural.
 */
export function synthesisBody(options: {
  readonly job: string;
  readonly input: string;
  readonly output: readonly string[];
  readonly context?: ContextPack | undefined;
}): string {
  return [
    "SCOPE: read-only",
    "TASK: SYNTHESIS. You are the judgement step of an orchestrated run.",
    options.job,
    "You get only the final answers of other workers, below. Curate them: merge, decide, drop noise.",
    "Never paste a worker's raw text unless it is already clean.",
    options.context ? renderContextPack(options.context) : "",
    "INPUT (final answers only):",
    "<<<",
    options.input.trim(),
    ">>>",
    "OUTPUT:",
    ...options.output.map((line) => `- ${line}`),
    "DO NOT:",
    "- Invent findings or sources that are not in the input",
    "",
  ]
    .filter((line) => line !== "")
    .join("\n");
}

/** Final answers, labelled, as synthesis input. */
export function labelledAnswers(answers: readonly { label: string; answer: string }[]): string {
  return answers.map(({ label, answer }) => `### ${label}\n${answer.trim()}`).join("\n\n");
}
