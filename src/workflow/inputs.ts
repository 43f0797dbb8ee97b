/** A finished step's final answer, as the steps that depend on it are given it. */
export interface StepAnswer {
  readonly step: string;
  readonly answer: string;
}

/**
 * Longest answer passed on, in characters. A step that needs more than this from another should ask
 * that step for a shorter answer; the whole answer stays in the run record.
 * @default 8000
 */
export const MAX_ANSWER_CHARS = 8000;

/**
 * `task` with the final answers of the steps it depends on appended, each clearly fenced and labelled.
 * Answers only, never transcripts: the boss rule, as in the built-in patterns.
 */
export function withAnswers(task: string, answers: readonly StepAnswer[]): string {
  if (answers.length === 0) return task;
  return `${task.trim()}\n\n${renderAnswers(answers, "FINAL ANSWERS OF THE STEPS THIS ONE DEPENDS ON")}`;
}

/** The answers as one labelled block, for a prompt. */
export function renderAnswers(answers: readonly StepAnswer[], heading: string): string {
  // Not `<<<`/`>>>`: a synthesis prompt fences its whole input with those, and these may sit inside it.
  const blocks = answers.map(
    ({ step, answer }) => `--- step "${step}" ---\n${clip(answer.trim())}\n--- end of step "${step}" ---`,
  );
  return `${heading} (final answers only, not transcripts):\n${blocks.join("\n")}`;
}

function clip(text: string): string {
  if (text.length <= MAX_ANSWER_CHARS) return text;
  const cut = text.length - MAX_ANSWER_CHARS;
  return `${text.slice(0, MAX_ANSWER_CHARS).trimEnd()}\n[… ${cut} more characters cut; the whole answer is in the run record]`;
}
