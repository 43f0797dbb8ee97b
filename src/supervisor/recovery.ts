import { setTimeout as delay } from "node:timers/promises";
import type { Store } from "../store/store.js";
import { isFinal } from "../worker/state.js";
import type { WorkerStatus } from "../worker/types.js";
import type { Budgets } from "./budgets.js";
import { type Clock, isoNow } from "./clock.js";
import type { Problems } from "./problems.js";
import { processesWithMarkers, signalAll } from "./processes.js";
import { blankStatus, type Entry, newEntry, type WorkerTable } from "./worker-table.js";

/** What recovery works with. */
export interface RecoveryContext {
  readonly store: Store;
  readonly table: WorkerTable;
  readonly budgets: Budgets;
  readonly problems: Problems;
  readonly clock: Clock;
  /** The `NAME=value` entry every process of a worker carries in its environment. */
  markerOf(id: string): string;
  /** Whether an unfinished worker goes on elsewhere (a workspace on a queue): then it is not lost. */
  adopts?(entry: Entry): boolean;
}

/**
 * Loads every stored worker into the table. Workers that were running under a supervisor that died
 * become `lost`, and whatever they left running is killed (see {@link killAll}). Damage is reported,
 * never fatal: a worker whose spec cannot be read is left out of the table and named when asked for.
 * Returns the unfinished workers that go on elsewhere (`adopts`), as they were stored.
 */
export async function recover(context: RecoveryContext): Promise<Entry[]> {
  const { store, table, budgets, problems, clock } = context;
  const lost: string[] = [];
  const adopted: Entry[] = [];
  for (const id of await store.workerIds()) {
    table.reserve(id);
    const [spec, status, result] = await Promise.all([
      store.readSpec(id),
      store.readStatus(id),
      store.readResult(id),
    ]);
    for (const read of [spec, status, result])
      if (read.ok === false && read.kind === "corrupt") problems.add(`worker ${id}: ${read.detail}`);
    const ended = result.ok || (status.ok && isFinal(status.value.state));
    if (!spec.ok) {
      // Without its spec the worker cannot be shown; whatever it left running goes all the same.
      if (!ended) lost.push(context.markerOf(id));
      if (spec.kind === "corrupt") table.markDamaged(id, spec.detail);
      continue;
    }
    // A status that cannot be read says nothing about how the worker ended: treat it as unfinished.
    const stored: WorkerStatus = status.ok ? status.value : blankStatus(id, "running", clock);
    const entry = newEntry(spec.value, stored, {
      ...(result.ok ? { result: result.value } : {}),
      ...(result.ok === false && result.kind === "corrupt" ? { resultDamage: result.detail } : {}),
    });
    table.restore(entry);
    const group = spec.value.group;
    if (group) budgets.setRun(group.id, group);
    if (entry.result && (!status.ok || !isFinal(stored.state))) {
      // The result was written but the status was not, or was damaged since: the result wins.
      const { state, endedAt, exitCode, threadId, usage, reason, retries, resumes } = entry.result;
      const { model, cost, threadUsd } = entry.result;
      const spent = { model, cost, threadUsd };
      table.move(entry, { state, endedAt, exitCode, threadId, usage, reason, retries, resumes, ...spent });
    } else if (!isFinal(stored.state) && context.adopts?.(entry)) {
      adopted.push(entry);
    } else if (!isFinal(stored.state)) {
      // Its supervisor died. Anything it left running carries our marker: stopped below, in one pass.
      lost.push(context.markerOf(id));
      table.move(entry, { state: "lost", endedAt: isoNow(clock), reason: { kind: "supervisor_lost" } });
    }
  }
  await killAll(lost);
  return adopted;
}

/** Passes over /proc at most, 10 ms apart, until nothing carrying a lost worker's marker is left. */
const KILL_PASSES = 20;

/**
 * SIGKILL for every process carrying one of `markers`, again until none is found: one pass misses a
 * child forked while it read /proc (its parent dies, the child lives on), and a process killed under
 * load can take a while to go.
 */
async function killAll(markers: readonly string[]): Promise<void> {
  for (let pass = 0; pass < KILL_PASSES; pass++) {
    const found = processesWithMarkers(markers);
    if (found.length === 0) return;
    signalAll(found, "SIGKILL");
    await delay(10);
  }
}
