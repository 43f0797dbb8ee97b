import { join } from "node:path";
import type { NamedAgents } from "../client/agent-schema.js";
import type { Baton } from "../client/baton.js";
import type { Spent } from "../cost/total.js";
import { BatonError } from "../errors.js";
import { fromSettings, PatternRun, type PatternRunOptions, runSettings } from "./pattern-run.js";
import { type FixOptions, fix } from "./patterns/fix.js";
import { type OptionsSprintOptions, optionsSprint } from "./patterns/options.js";
import { type ResearchOptions, research } from "./patterns/research.js";
import { checkReview, type ReviewOptions, review } from "./patterns/review.js";
import { type ScoutOptions, scout } from "./patterns/scout.js";
import { type SectionsOptions, sections } from "./patterns/sections.js";
import { settleAgents } from "./run-agents.js";
import { RunRecord, type RunWorker } from "./run-record.js";
import { interruptedSummary, spentBy } from "./summary.js";
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

/**
 * Checks a pattern's options that can be checked before any worker starts (a review's lenses, on Baton's
 * backends or the config's named `agents`).
 */
export function checkPattern<K extends PatternName>(
  name: K,
  options: PatternOptionsByName[K],
  agents?: NamedAgents,
): void {
  if (name === "review") checkReview(options as ReviewOptions, agents);
}

export interface PatternOutcome extends PatternResult {
  readonly runId: string;
  readonly dir: string;
  /** Every worker the run started, with its step, label, backend and model (as `run.json` keeps them). */
  readonly workers: readonly RunWorker[];
  /** What its workers used and cost together (absent if the supervisor could not say). */
  readonly spent?: Spent;
}

/**
 * Runs a pattern to its one result, recorded under `runs/<id>/` with its plan. On failure or abort the
 * run is marked so, its workers are stopped, and the error is rethrown.
 */
export async function runPattern<K extends PatternName>(
  baton: Baton,
  name: K,
  options: PatternOptionsByName[K],
  given: PatternRunOptions,
): Promise<PatternOutcome> {
  const runOptions = await settleAgents(baton.home, given);
  checkPattern(name, options, runOptions.agents);
  const record = await RunRecord.create(baton.home, name, options, runSettings(runOptions));
  const run = new PatternRun(baton, record, runOptions);
  return finishRun(baton, record, runOptions.signal, () =>
    settledOnFailure(run, PATTERNS[name](run, options)),
  );
}

/**
 * Continues a pattern run whose process died or was stopped: the pattern runs again from its start,
 * but each worker the record already holds is used again (a lost one resumed, a running one waited
 * for); only workers that were canceled run afresh. Finished workers are never run twice.
 */
export async function resumePattern(
  baton: Baton,
  record: RunRecord,
  live: Pick<PatternRunOptions, "signal" | "onEvent">,
): Promise<PatternOutcome> {
  const { pattern, options, settings } = record.snapshot;
  if (!isPatternName(pattern)) {
    throw new BatonError("usage", `run ${record.id} is a "${pattern}" run, which cannot be resumed`);
  }
  const runOptions: PatternRunOptions = {
    ...fromSettings(settings ?? { cwd: process.cwd() }),
    ...live,
    resume: true,
  };
  await record.reopen();
  const run = new PatternRun(baton, record, runOptions);
  return finishRun(baton, record, runOptions.signal, () =>
    settledOnFailure(run, PATTERNS[pattern](run, options as PatternOptionsByName[typeof pattern] as never)),
  );
}

const isPatternName = (name: string): name is PatternName => Object.hasOwn(PATTERNS, name);

/** The pattern's result; on failure, only once the workers being started are recorded (to be stopped). */
export async function settledOnFailure<T>(run: PatternRun, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    await run.settled();
    throw error;
  }
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
  // The workspace's event stream hears of the run; one that cannot be told does not stop it.
  const announce = (phase: "started" | "ended", state?: string) =>
    baton
      .publish({ type: "run", run: record.id, pattern: record.snapshot.pattern, phase, state })
      .catch(() => {});
  await announce("started");
  try {
    const result = await work();
    await record.writeResult(result.markdown, result.data);
    await record.end("succeeded");
    await announce("ended", "succeeded");
    const spent = await spentBy(
      baton,
      record.workers.map((w) => w.id),
    );
    return {
      ...result,
      runId: record.id,
      dir: record.dir,
      workers: record.workers,
      ...(spent ? { spent } : {}),
    };
  } catch (error) {
    const aborted = signal?.aborted === true;
    const unfinished = record.workers.map((w) => w.id);
    if (unfinished.length > 0) await baton.stop(unfinished, { graceSeconds: 2 }).catch(() => {});
    await record.end(aborted ? "canceled" : "failed").catch(() => {});
    await announce("ended", aborted ? "canceled" : "failed");
    if (aborted) {
      // What each worker got to is kept: its answer, or the end of its transcript.
      const summary = await interruptedSummary(
        baton,
        record.workers.map((w) => ({ id: w.id, label: w.label })),
        `Run ${record.id} was stopped (Ctrl+C); resume it with \`baton resume ${record.id}\``,
      );
      await record.writeFile("summary.md", summary).catch(() => {});
      throw new BatonError(
        "aborted",
        `run ${record.id} was stopped; its workers were stopped too; summary in ${join(record.dir, "summary.md")}`,
      );
    }
    throw error;
  }
}
