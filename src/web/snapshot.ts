import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Baton } from "../client/baton.js";
import { RunRecord } from "../pattern/run-record.js";
import { currentPlans, type ShownPlan } from "../plan/current.js";
import { byWorkerId } from "../render/numbers.js";
import { reasonText } from "../render/workers.js";
import type { WorkerInfo } from "../worker/types.js";

// What the page draws at one moment: the listing `baton ls` and `baton top` show (the supervisor's own
// account of every worker), the plans, and the runs with their steps. The page asks again after the
// events that change any of it; between two asks, events tell it when each worker was last active.

/** Runs shown, the newest first. */
const MAX_RUNS = 20;

/** A pattern or workflow run, as its record in the store has it. */
export interface RunView {
  readonly id: string;
  readonly pattern: string;
  readonly state: string;
  readonly createdAt: string;
  readonly endedAt: string | undefined;
  /** Its steps in order, each with the workers it started. */
  readonly steps: readonly { readonly name: string; readonly workers: readonly string[] }[];
}

/** A worker as the page shows it: its row of `ls`, and why it ended, in words. */
export type WorkerView = WorkerInfo & { readonly reasonText: string | undefined };

export interface Snapshot {
  readonly workers: readonly WorkerView[];
  readonly maxParallel: number;
  readonly problems: readonly string[];
  /** The last event's sequence number when the listing was read: the page follows events after it. */
  readonly seq: number;
  /** When the listing was read (ms since the epoch): a running worker's elapsed time grows from it. */
  readonly listedAt: number;
  readonly plans: readonly ShownPlan[];
  readonly runs: readonly RunView[];
}

/** The workspace as the page shows it now. */
export async function snapshot(baton: Baton, signal?: AbortSignal): Promise<Snapshot> {
  const [listing, plans, runs] = await Promise.all([
    baton.list(signal),
    currentPlans(baton.home),
    runsOf(baton.home),
  ]);
  const workers = [...listing.workers].sort(byWorkerId).map((w) => ({
    ...w,
    reasonText: w.reason ? reasonText(w) : undefined,
  }));
  return {
    workers,
    maxParallel: listing.maxParallel,
    problems: listing.problems,
    seq: listing.seq,
    listedAt: Date.now(),
    plans,
    runs,
  };
}

/** The newest runs of the store; a run whose record cannot be read is left out. */
async function runsOf(home: string): Promise<RunView[]> {
  const names = await readdir(join(home, "runs")).catch(() => [] as string[]);
  const ids = names
    .filter((name) => /^r[1-9][0-9]{0,8}$/.test(name))
    .sort((a, b) => Number(b.slice(1)) - Number(a.slice(1)))
    .slice(0, MAX_RUNS);
  const runs = await Promise.all(
    ids.map(async (id) => {
      try {
        const run = (await RunRecord.open(home, id)).snapshot;
        const steps: { name: string; workers: string[] }[] = [];
        for (const worker of run.workers) {
          const last = steps.at(-1);
          if (last?.name === worker.step) last.workers.push(worker.id);
          else steps.push({ name: worker.step, workers: [worker.id] });
        }
        return {
          id: run.id,
          pattern: run.pattern,
          state: run.state,
          createdAt: run.createdAt,
          endedAt: run.endedAt,
          steps,
        };
      } catch {
        return undefined;
      }
    }),
  );
  return runs.filter((run) => run !== undefined);
}
