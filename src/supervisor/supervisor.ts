import { createHash } from "node:crypto";
import { Pricing } from "../cost/pricing.js";
import { priceFiles } from "../cost/user-prices.js";
import { EventBus } from "../events/bus.js";
import { EventLog } from "../events/log.js";
import { OutputPulse } from "../events/pulse.js";
import {
  DEFAULT_GRACE_SECONDS,
  DEFAULT_MAX_PARALLEL,
  type PollParams,
  type ResumeParams,
  type SpawnParams,
} from "../protocol/messages.js";
import type { Store } from "../store/store.js";
import { RESUME_PROMPT } from "../worker/prompt.js";
import { isFinal } from "../worker/state.js";
import type { EndReason, WorkerInfo, WorkerResult } from "../worker/types.js";
import { type AdmissionContext, admit } from "./admission.js";
import { type AttemptContext, retryDelayMs, runWorker } from "./attempts.js";
import { Budgets } from "./budgets.js";
import { type Clock, isoNow, realClock } from "./clock.js";
import { stopWorker, type WaitResult, waitFor } from "./ending.js";
import type { SupervisorOptions } from "./options.js";
import { Problems } from "./problems.js";
import { recover } from "./recovery.js";
import { endedWithout, recordResult, resultOf, STOPPED } from "./results.js";
import { type ResumeOutcome, resumeLost } from "./resume.js";
import type { WorkerRunner } from "./runner.js";
import { Scheduler } from "./scheduling.js";
import { interruptRun, typeInto } from "./terminal-input.js";
import { type PollResult, TranscriptReader } from "./transcript-reader.js";
import { markerOf } from "./worker-env.js";
import { type Entry, newEntry, WorkerTable } from "./worker-table.js";

export type { WaitResult } from "./ending.js";
export type { SupervisorOptions } from "./options.js";
export type { ResumeOutcome } from "./resume.js";
export type { PollResult } from "./transcript-reader.js";

/**
 * The heart of the supervisor process, and the story of a worker: admitted (`spawn`), queued behind
 * the cap and the writer lock, started, run in attempts (retried, resumed, in a worktree), kept within
 * its budgets, read (`poll`), stopped, settled (its result recorded, then its final state), awaited.
 * Each part is a module of its own; this class wires them together.
 */
export class Supervisor {
  readonly storeKey: string;
  /** Everything worth seeing, in order: what `watch`, `top`, `ui` and the MCP `events` tool follow. */
  readonly events: EventBus;
  /** Problems with the store: found while loading it, or writes that failed since. */
  readonly problems: string[];
  private readonly problemList: Problems;
  /** Output events, at most a few a second per worker (their sizes only). */
  private readonly pulse: OutputPulse;
  private readonly table: WorkerTable;
  private readonly scheduler: Scheduler;
  private readonly budgets: Budgets;
  private readonly reader: TranscriptReader;
  private readonly attempts: AttemptContext;
  private readonly clock: Clock;
  /** What admission and resume check and change. */
  private readonly parts: AdmissionContext;
  private readonly runner: WorkerRunner | undefined;

  private constructor(
    private readonly store: Store,
    options: SupervisorOptions,
  ) {
    this.clock = options.clock ?? realClock;
    this.runner = options.runner;
    this.storeKey = createHash("sha256").update(store.home).digest("hex").slice(0, 12);
    this.events = new EventBus(
      new EventLog(store.home, (line) => this.problemList.add(line)),
      () => new Date(this.clock.now()),
    );
    this.problemList = new Problems(this.events);
    this.problems = this.problemList.lines;
    this.pulse = new OutputPulse((worker, bytes) => this.events.emit({ type: "output", worker, bytes }));
    store.onDamage = (worker, file) => this.events.emit({ type: "damage", worker, files: [file] });
    this.table = new WorkerTable(store, this.events, this.problemList, this.clock);
    this.budgets = new Budgets(this.table, this.problemList);
    const pricing = new Pricing(options.priceFiles ?? priceFiles(store.home));
    this.scheduler = new Scheduler(this.table, options.maxParallel ?? DEFAULT_MAX_PARALLEL, {
      start: (entry) => this.start(entry),
      barred: (entry) => (entry.spec.group ? this.budgets.runOver(entry.spec.group.id) : undefined),
      endUnstarted: (entry, reason) => void this.endUnstarted(entry, reason),
    });
    this.reader = new TranscriptReader(store, this.table, this.clock);
    this.attempts = {
      store,
      table: this.table,
      budgets: this.budgets,
      problems: this.problemList,
      events: this.events,
      pulse: this.pulse,
      clock: this.clock,
      storeKey: this.storeKey,
      graceMs: (options.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000,
      backoff: options.retryDelayMs ?? retryDelayMs,
      pricing,
    };
    const { table, scheduler, budgets, clock } = this;
    this.parts = { store, table, scheduler, budgets, clock, pricing, threadsHere: !options.runner };
  }

  /** Loads every stored worker. Workers that were running under a supervisor that died become `lost`. */
  static async load(store: Store, options: SupervisorOptions = {}): Promise<Supervisor> {
    const supervisor = new Supervisor(store, options);
    const { runner } = options;
    const adopted = await recover({
      store,
      table: supervisor.table,
      budgets: supervisor.budgets,
      problems: supervisor.problemList,
      clock: supervisor.clock,
      markerOf: (id) => markerOf(supervisor.storeKey, id),
      ...(runner ? { adopts: (entry: Entry) => runner.adopts(entry) } : {}),
    });
    // Workers that go on on a host: a running one is followed to its end, a queued one waits its turn.
    for (const entry of adopted) {
      if (entry.status.state === "queued") {
        supervisor.scheduler.enqueue(entry.spec.id);
        continue;
      }
      supervisor.scheduler.adopt();
      entry.settled = supervisor.run(entry);
    }
    supervisor.scheduler.pump();
    return supervisor;
  }

  /** How many workers may run at once; the queue moves on when it is raised at the next start or end. */
  get maxParallel(): number {
    return this.scheduler.maxParallel;
  }

  set maxParallel(value: number) {
    this.scheduler.maxParallel = value;
  }

  /** True while any worker is queued or running. */
  get busy(): boolean {
    return this.scheduler.busy;
  }

  /** A new worker: checked, written to the store, queued, and started when its turn comes. */
  async spawn(request: SpawnParams): Promise<{ id: string }> {
    const worker = await admit(request, this.parts);
    const { spec } = worker;
    try {
      await this.store.createWorker(spec, worker.prompt, worker.status, worker.outputSchema);
      if (worker.resumeFrom) await this.store.writeText(spec.id, "resume.txt", RESUME_PROMPT);
    } catch (error) {
      worker.release();
      this.scheduler.pump(); // a later writer it held back may go now
      throw error;
    }
    worker.release();
    const entry = newEntry(spec, worker.status, { env: worker.env });
    if (worker.resumeFrom) entry.resumeFrom = worker.resumeFrom;
    this.table.add(entry);
    this.reader.fresh(spec.id);
    this.scheduler.enqueue(spec.id, true);
    this.scheduler.pump();
    return { id: spec.id };
  }

  /** Continues lost workers: in their own recorded thread when there is one, else from the start. */
  resume(params: ResumeParams): Promise<ResumeOutcome[]> {
    return resumeLost(params, this.parts);
  }

  /** Its turn has come: it runs, in attempts, until its result is recorded. */
  private start(entry: Entry): void {
    this.table.move(entry, { state: "running", startedAt: isoNow(this.clock) });
    entry.settled = this.run(entry);
  }

  /** Runs a started worker here, or on a host of the workspace's queue, and settles it. */
  private run(entry: Entry): Promise<void> {
    const running = this.runner ? this.runner.run(entry, this.attempts) : runWorker(entry, this.attempts);
    return running.then((result) => this.settle(entry, result));
  }

  /** A queued worker that never started ends: stopped, or its run over its budget. */
  private async endUnstarted(entry: Entry, reason: EndReason): Promise<void> {
    const state = reason.kind === "budget" ? "over_budget" : "canceled";
    await this.settle(entry, endedWithout(entry.spec, state, reason, this.clock), false);
  }

  /** Its result is recorded, then its final state announced; waiters wake, and the queue moves on. */
  private async settle(entry: Entry, result: WorkerResult, started = true): Promise<void> {
    entry.result = result;
    if (started) {
      // Its place is free now: the next worker need not wait for this result to reach the disk. A
      // writer it holds back still waits, as this one counts as running until its result is recorded.
      this.scheduler.ended();
      this.scheduler.pump();
    }
    await recordResult(this.store, this.problemList, entry);
    this.pulse.end(entry.spec.id);
    this.events.emit({
      type: "answer",
      worker: entry.spec.id,
      state: result.state,
      chars: result.answer.length,
    });
    this.table.move(entry, {
      state: result.state,
      endedAt: result.endedAt,
      exitCode: result.exitCode,
      threadId: result.threadId,
      usage: result.usage,
      reason: result.reason,
      model: result.model ?? entry.status.model,
      cost: result.cost ?? entry.status.cost,
      threadUsd: result.threadUsd ?? entry.status.threadUsd,
    });
    entry.run = undefined;
    entry.output.ring();
    this.table.ended.ring();
    this.scheduler.pump();
  }

  /** Every worker, or those of `ids` that there are. */
  list(ids?: readonly string[]): WorkerInfo[] {
    return this.table.select(ids).map((entry) => this.info(entry));
  }

  private info(entry: Entry): WorkerInfo {
    const queued = entry.status.state === "queued";
    return this.table.info(entry, queued ? this.scheduler.position(entry.spec.id) : undefined);
  }

  /** What the worker printed since the reader's last poll. */
  poll(params: PollParams, signal?: AbortSignal): Promise<PollResult> {
    return this.reader.poll(params, signal);
  }

  /** Types into the worker's terminal, where its agent reads it. */
  send(id: string, text: string, enter = true): void {
    typeInto(this.table.get(id), text, enter);
  }

  interrupt(id: string): void {
    interruptRun(this.table.get(id));
  }

  /** Stops workers gracefully and resolves once each has ended. Returns the ids it stopped. */
  async stop(params: { ids?: string[]; all?: boolean; graceSeconds?: number }): Promise<string[]> {
    const targets = (
      params.all ? this.table.all() : (params.ids ?? []).map((id) => this.table.get(id))
    ).filter((e) => !isFinal(e.status.state));
    const graceMs = params.graceSeconds === undefined ? undefined : params.graceSeconds * 1000;
    const cancelQueued = (entry: Entry) => {
      this.scheduler.dequeue(entry.spec.id);
      entry.env = undefined;
      return this.endUnstarted(entry, STOPPED);
    };
    await Promise.all(targets.map((entry) => stopWorker(entry, graceMs, cancelQueued)));
    return targets.map((entry) => entry.spec.id);
  }

  /** Waits until the given workers (default: all unfinished) end, or one of them with `any`. */
  wait(
    params: { ids?: string[]; any?: boolean; timeoutMs?: number },
    signal?: AbortSignal,
  ): Promise<WaitResult> {
    const entries = params.ids?.length
      ? params.ids.map((id) => this.table.get(id))
      : this.table.all().filter((e) => !isFinal(e.status.state));
    return waitFor(this.table, entries, params, this.clock, (e) => this.info(e), signal);
  }

  async result(id: string): Promise<WorkerResult> {
    return resultOf(this.store, this.table.get(id));
  }

  /** The agent pid of each running worker, with the worker's id: what callers are checked against. */
  workerPids(): Map<number, string> {
    return this.table.agentPids();
  }

  /** Stops every worker and waits for their records to be written. */
  async close(graceSeconds?: number): Promise<void> {
    await this.stop({ all: true, ...(graceSeconds === undefined ? {} : { graceSeconds }) });
    // What the store refused earlier gets one more try: space may have been freed since.
    for (const entry of this.table.all()) {
      if (!entry.unrecorded) continue;
      entry.unrecorded = false;
      await recordResult(this.store, this.problemList, entry);
      this.table.move(entry, {}); // the status as it stands, written again
    }
    await Promise.all([this.table.flush(), this.reader.flush()]);
    await this.runner?.close();
    this.pulse.close();
    this.events.close();
  }
}
