import { isFinal, type WorkerState } from "../worker/state.js";
import type { BatonEvent } from "./types.js";

/** What a watch was asked to follow: workers by id, runs by id. */
export interface Targets {
  readonly workers: readonly string[];
  readonly runs: readonly string[];
}

/** A worker as a snapshot (`list`) shows it. */
interface Known {
  readonly id: string;
  readonly state: WorkerState;
  readonly run?: string | undefined;
}

/** Splits what a person typed (`w3`, `r2`) into workers and runs; anything else is refused by the caller. */
export function parseTargets(names: readonly string[]): Targets | { readonly bad: string } {
  const workers: string[] = [];
  const runs: string[] = [];
  for (const name of names) {
    if (/^w[1-9][0-9]{0,8}$/.test(name)) workers.push(name);
    else if (/^r[1-9][0-9]{0,8}$/.test(name)) runs.push(name);
    else return { bad: name };
  }
  return { workers, runs };
}

/**
 * Which events a watch of some workers and runs shows, and when it is over: once every named worker
 * has ended and every named run has ended. With no targets, everything is shown and it is never over.
 */
export class Following {
  private readonly workers = new Set<string>();
  private readonly pendingWorkers = new Set<string>();
  private readonly pendingRuns = new Set<string>();
  private readonly runs: ReadonlySet<string>;
  readonly all: boolean;

  constructor(targets: Targets, snapshot: readonly Known[], endedRuns: ReadonlySet<string>) {
    this.all = targets.workers.length === 0 && targets.runs.length === 0;
    this.runs = new Set(targets.runs);
    for (const id of targets.workers) this.workers.add(id);
    for (const worker of snapshot) if (worker.run && this.runs.has(worker.run)) this.workers.add(worker.id);
    for (const worker of snapshot)
      if (this.workers.has(worker.id) && !isFinal(worker.state)) this.pendingWorkers.add(worker.id);
    for (const run of targets.runs) if (!endedRuns.has(run)) this.pendingRuns.add(run);
  }

  /** Takes the event into account; true if the watch shows it. */
  see(event: BatonEvent): boolean {
    if (this.all) return true;
    if (event.type === "spawned" && event.run && this.runs.has(event.run)) this.workers.add(event.worker);
    if ("worker" in event) {
      if (!this.workers.has(event.worker)) return false;
      if (event.type === "state") {
        if (isFinal(event.to)) this.pendingWorkers.delete(event.worker);
        else this.pendingWorkers.add(event.worker); // resumed, or a run's worker just spawned
      }
      return true;
    }
    if (event.type === "run" || event.type === "step") {
      if (!this.runs.has(event.run)) return false;
      if (event.type === "run") {
        if (event.phase === "ended") this.pendingRuns.delete(event.run);
        else this.pendingRuns.add(event.run);
      }
      return true;
    }
    return event.type === "plan" || event.type === "problem";
  }

  /** Every named worker and run has ended. */
  get over(): boolean {
    return !this.all && this.pendingWorkers.size === 0 && this.pendingRuns.size === 0;
  }
}
