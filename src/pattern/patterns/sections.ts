import { BatonError } from "../../errors.js";
import type { PatternRun } from "../pattern-run.js";
import { requireSucceeded } from "../pattern-run.js";
import { labelledAnswers, synthesisBody } from "../synthesis.js";
import type { PatternResult } from "../types.js";

export interface SectionsOptions {
  readonly task: string;
  /** The slices: files, folders, or items of a list. */
  readonly sections: readonly string[];
  /** Each worker may edit its own slice (which must then be a path). */
  readonly edit: boolean;
}

/** Split by sections: each worker owns one slice, in parallel; then a merge for consistency. */
export async function sections(run: PatternRun, options: SectionsOptions): Promise<PatternResult> {
  if (options.sections.length < 2) {
    throw new BatonError(
      "usage",
      "split by sections needs at least 2 sections: use --section 2 or more times",
    );
  }
  await run.planSteps(
    [`Work ${options.sections.length} sections in parallel`, "Merge the sections for consistency"],
    "Split by sections: each worker owns one slice.",
  );
  const results = await run.all(
    options.sections.map((section, index) => ({
      label: `section-${index + 1}`,
      step: "sections",
      ...(options.edit ? { role: "implementer" as const, write: [section] } : {}),
      task: `${options.task}\nYOUR SECTION (you own only this slice; leave the others alone): ${section}`,
    })),
  );
  const answers = results.map((result, index) => ({
    label: `Section ${index + 1}: ${options.sections[index]}`,
    answer: requireSucceeded(result, `section ${index + 1}`),
  }));
  await run.nextStep();
  const merged = requireSucceeded(
    await run.one({
      label: "merge",
      step: "merge",
      task: "Merge the sections for consistency",
      body: synthesisBody({
        job: `The work was split by sections. Merge the section results into one consistent result for: ${options.task}`,
        input: labelledAnswers(answers),
        output: [
          "The merged result",
          "Inconsistencies between sections, and how they were resolved",
          "One next step",
        ],
      }),
    }),
    "the merge worker",
  );
  await run.nextStep();
  return {
    markdown: `# Sections\n\n${merged}\n\n## Sections\n${options.sections.map((s, i) => `${i + 1}. ${s} — ${results[i]!.id}`).join("\n")}\n`,
    data: { merged, sections: answers },
  };
}
