import { BatonError } from "../../errors.js";
import type { PatternRun } from "../pattern-run.js";
import { requireSucceeded } from "../pattern-run.js";
import { parseSelection, SELECTION_JSON_SCHEMA } from "../schemas.js";
import { labelledAnswers, synthesisBody } from "../synthesis.js";
import type { PatternResult } from "../types.js";

export interface OptionsSprintOptions {
  readonly task: string;
  /** 2 or 3 alternatives. */
  readonly count: number;
}

const NAMES = ["A", "B", "C"];

/** Options sprint: 2 or 3 workers propose alternatives; one is selected and refined, with the reason. */
export async function optionsSprint(run: PatternRun, options: OptionsSprintOptions): Promise<PatternResult> {
  if (options.count < 2 || options.count > 3) {
    throw new BatonError(
      "usage",
      `an options sprint drafts 2 or 3 options, got ${options.count}: use --count 2 or 3`,
    );
  }
  const names = NAMES.slice(0, options.count);
  await run.planSteps(
    [`Draft ${options.count} options in parallel`, "Select one and refine it"],
    "Options sprint: generate good alternatives, then choose.",
  );
  const drafts = await run.all(
    names.map((name) => ({
      label: `option-${name}`,
      step: "draft",
      task: `${options.task}\nPropose option ${name}: one complete, distinct approach (the ${["most straightforward", "boldest", "most conservative"][NAMES.indexOf(name)]} one you can defend). Give its trade-offs.`,
    })),
  );
  const answers = drafts.map((draft, i) => ({
    label: `Option ${names[i]}`,
    answer: requireSucceeded(draft, `option ${names[i]}`),
  }));
  await run.nextStep();
  const selected = await run.structured(
    {
      label: "select",
      step: "select",
      task: "Select one option and refine it",
      outputSchema: SELECTION_JSON_SCHEMA,
      body: synthesisBody({
        job: `Choose the best option for: ${options.task}`,
        input: labelledAnswers(answers),
        output: [
          `JSON: {"choice": one of ${names.join("/")}, "reason": why it wins, "refined": the chosen option, improved}`,
        ],
      }),
    },
    parseSelection,
  );
  if (!selected.ok) throw new BatonError("backend", `no option could be selected: ${selected.error}`);
  await run.nextStep();
  const { choice, reason, refined } = selected.value;
  return {
    markdown: `# Options sprint\n\nSelected: option ${choice}\n\nWhy: ${reason}\n\n## Refined\n${refined}\n\n## Considered\n${answers.map((a) => `- ${a.label}: ${a.answer.split("\n")[0]}`).join("\n")}\n`,
    data: { choice, reason, refined, options: answers },
  };
}
