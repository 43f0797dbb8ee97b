import { resolve } from "node:path";
import type { Baton } from "../client/baton.js";
import { mergeContextPacks } from "../context/index.js";
import { PatternRun, type PatternRunOptions, runSettings } from "../pattern/pattern-run.js";
import { settleAgents } from "../pattern/run-agents.js";
import { finishRun, type PatternOutcome, settledOnFailure } from "../pattern/run-pattern.js";
import { RunRecord } from "../pattern/run-record.js";
import { LevelPlan } from "./plan.js";
import { workflowResult } from "./result.js";
import { runStep, type StepOutput } from "./steps.js";
import type { Workflow } from "./types.js";

/** How to run a workflow; its cwd comes from the file, and `context` is added to the file's pack. */
export type WorkflowRunOptions = Omit<PatternRunOptions, "cwd">;

/**
 * Runs a workflow to its one result, recorded under `runs/<id>/` with its plan, as `runPattern` records a
 * pattern. A step that fails stops the whole run: its other workers are stopped, the run is marked failed
 * (canceled when `signal` aborted it) and the step's error is rethrown.
 */
export async function runWorkflow(
  baton: Baton,
  workflow: Workflow,
  given: WorkflowRunOptions = {},
  /** The record of an earlier run of this file, when resuming it. */
  resumed?: RunRecord,
): Promise<PatternOutcome> {
  // The command line's backend and model before the file's; settled once, then kept in the record.
  const options = await settleAgents(baton.home, {
    ...given,
    ...(given.backend === undefined && workflow.backend ? { backend: workflow.backend } : {}),
    ...(given.model === undefined && workflow.model ? { model: workflow.model } : {}),
  });
  const record =
    resumed ??
    (await RunRecord.create(
      baton.home,
      "workflow",
      { file: resolve(workflow.file), name: workflow.name, steps: workflow.steps.map((step) => step.id) },
      runSettings({ ...options, cwd: workflow.cwd }),
    ));
  // Every step's workers listen to this one signal, so a failure in one branch ends the others too.
  const stop = new AbortController();
  const forward = () => stop.abort(options.signal?.reason);
  if (options.signal?.aborted) forward();
  options.signal?.addEventListener("abort", forward, { once: true });
  const context = mergeContextPacks(workflow.context, options.context);
  const run = new PatternRun(baton, record, {
    ...options,
    cwd: workflow.cwd,
    ...(context ? { context } : {}),
    signal: stop.signal,
  });
  try {
    return await finishRun(baton, record, options.signal, async () => {
      const outputs = await settledOnFailure(run, runSteps(run, workflow, stop));
      const workers = new Map(
        workflow.steps.map((step) => [
          step.id,
          record.workers.filter((w) => w.step === step.id).map((w) => w.id),
        ]),
      );
      return workflowResult(workflow, outputs, workers);
    });
  } finally {
    options.signal?.removeEventListener("abort", forward);
  }
}

/** Starts each step as soon as the steps it needs are done; independent steps run in parallel. */
async function runSteps(
  run: PatternRun,
  workflow: Workflow,
  stop: AbortController,
): Promise<Map<string, StepOutput>> {
  const plan = new LevelPlan(run, workflow);
  await plan.start();
  const byId = new Map(workflow.steps.map((step) => [step.id, step]));
  const outputs = new Map<string, StepOutput>();
  const running = new Map<string, Promise<void>>();
  // Level order is a topological order: whatever a step needs is already in `running`.
  for (const id of workflow.levels.flat()) {
    const step = byId.get(id)!;
    running.set(
      id,
      (async () => {
        await Promise.all(step.needs.map((need) => running.get(need)));
        stop.signal.throwIfAborted();
        const given = step.dependsOn.map((need) => ({ step: need, answer: outputs.get(need)!.answer }));
        outputs.set(id, await runStep(run, step, given, outputs));
        await plan.done(id);
      })(),
    );
  }
  try {
    await Promise.all(running.values());
  } catch (error) {
    // The first failure is the one to report; the steps still running are told to stop, and are waited
    // for, so that every worker they started is in the record before the caller stops them.
    stop.abort();
    await Promise.allSettled(running.values());
    throw error;
  }
  return outputs;
}
