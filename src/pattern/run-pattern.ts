import type { Baton } from "../client/baton.js";
import { BatonError } from "../errors.js";
import { PatternRun, type PatternRunOptions } from "./pattern-run.js";
import { type FixOptions, fix } from "./patterns/fix.js";
import { type OptionsSprintOptions, optionsSprint } from "./patterns/options.js";
import { type ResearchOptions, research } from "./patterns/research.js";
import { type ReviewOptions, review } from "./patterns/review.js";
import { type ScoutOptions, scout } from "./patterns/scout.js";
import { type SectionsOptions, sections } from "./patterns/sections.js";
import { RunRecord } from "./run-record.js";
import type { PatternResult } from "./types.js";

/** Every pattern by name, with the options it takes. */
export interface PatternOptionsByName {
  review: ReviewOptions;
  fix: FixOptions;
  scout: ScoutOptions;
  sections: SectionsOptions;
  research: ResearchOptions;
  options: OptionsSprintOptions;
}
export type PatternName = keyof PatternOptionsByName;

const PATTERNS: {
  [K in PatternName]: (run: PatternRun, options: PatternOptionsByName[K]) => Promise<PatternResult>;
} = {
  review,
  fix,
  scout,
  sections,
  research,
  options: optionsSprint,
};

export const PATTERN_NAMES = Object.keys(PATTERNS) as PatternName[];

export interface PatternOutcome extends PatternResult {
  readonly runId: string;
  readonly dir: string;
}

/**
 * Runs a pattern to its one result, recorded under `runs/<id>/` with its plan. On failure or abort the
 * run is marked so, its workers are stopped, and the error is rethrown.
 */
export async function runPattern<K extends PatternName>(
  baton: Baton,
  name: K,
  options: PatternOptionsByName[K],
  runOptions: PatternRunOptions,
): Promise<PatternOutcome> {
  const record = await RunRecord.create(baton.home, name, options);
  const run = new PatternRun(baton, record, runOptions);
  return finishRun(baton, record, runOptions.signal, () => PATTERNS[name](run, options));
}

/**
 * Records a run's one result. On failure or abort the run is marked so, every worker it started is
 * stopped, and the error is rethrown. Patterns and workflow files both end here.
 */
export async function finishRun(
  baton: Baton,
  record: RunRecord,
  signal: AbortSignal | undefined,
  work: () => Promise<PatternResult>,
): Promise<PatternOutcome> {
  try {
    const result = await work();
    await record.writeResult(result.markdown, result.data);
    await record.end("succeeded");
    return { ...result, runId: record.id, dir: record.dir };
  } catch (error) {
    const aborted = signal?.aborted === true;
    const unfinished = record.workers.map((w) => w.id);
    if (unfinished.length > 0) await baton.stop(unfinished, { graceSeconds: 2 }).catch(() => {});
    await record.end(aborted ? "canceled" : "failed").catch(() => {});
    if (aborted) {
      throw new BatonError("aborted", `run ${record.id} was stopped; its workers were stopped too`);
    }
    throw error;
  }
}
