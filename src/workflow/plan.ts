import type { PatternRun } from "../pattern/pattern-run.js";
import type { Workflow, WorkflowStep } from "./types.js";

/**
 * The run's plan: one plan step per dependency level. Steps start as soon as what they need is done, so a
 * level may start before the one above it has ended; the plan moves on when a level has ended entirely.
 */
export class LevelPlan {
  private readonly left: number[];
  private readonly levelOf = new Map<string, number>();
  private current = 0;
  // Steps end concurrently; the plan file has one writer, so its updates are queued.
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly run: PatternRun,
    private readonly workflow: Workflow,
  ) {
    this.left = workflow.levels.map((ids) => ids.length);
    workflow.levels.forEach((ids, level) => {
      for (const id of ids) this.levelOf.set(id, level);
    });
  }

  start(): Promise<void> {
    const byId = new Map(this.workflow.steps.map((step) => [step.id, step]));
    const steps = this.workflow.levels.map(
      (ids) => `Run ${ids.map((id) => describe(byId.get(id)!)).join(", ")}`,
    );
    return this.run.planSteps(
      steps,
      `Workflow "${this.workflow.name}" (${this.workflow.file}): each step starts once the steps it needs are done.`,
    );
  }

  /** Marks a step done; completes its level's plan step, and any after it, once they have no step left. */
  done(id: string): Promise<void> {
    this.queue = this.queue.then(async () => {
      const level = this.levelOf.get(id)!;
      this.left[level] = (this.left[level] ?? 1) - 1;
      while (this.current < this.left.length && this.left[this.current] === 0) {
        await this.run.nextStep();
        this.current += 1;
      }
    });
    return this.queue;
  }
}

function describe(step: WorkflowStep): string {
  if (step.kind === "merge") return `${step.id} (merges ${step.merge.join(", ")})`;
  return step.forEach ? `${step.id} (${step.forEach.length} workers)` : step.id;
}
