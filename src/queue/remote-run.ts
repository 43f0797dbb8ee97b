import type { AttemptContext } from "../supervisor/attempts.js";
import { Bell } from "../supervisor/bell.js";
import type { StopCause } from "../supervisor/run-end.js";
import { RunLogs } from "../supervisor/run-logs.js";
import type { Entry, RunHandle } from "../supervisor/worker-table.js";
import { type Usage, type WorkerResult, ZERO_USAGE } from "../worker/types.js";
import type { Placement, Placements } from "./placements.js";
import { completedResult, failedOnHost, landed, stoppedWaiting } from "./remote-result.js";
import { budgetCrossed, plus } from "./remote-usage.js";
import type { ControlEvent, HostUpdate, JobOutcome } from "./wire.js";

/** What a remote run asks of the coordinator. */
export interface RemoteParts {
  readonly context: AttemptContext;
  readonly placements: Placements;
  readonly workspace: string;
  /** Tells the host that holds the job (a custom event every host of the workspace hears). */
  control(event: ControlEvent): Promise<void>;
  /** Removes the job while no host has taken it; true if it was removed. */
  removeWaiting(job: string): Promise<boolean>;
  /** The git-remote mode: brings a writer's branch from the remote into the workspace's repository. */
  landChange?(isolation: Isolation): Promise<Isolation>;
}

type Isolation = NonNullable<WorkerResult["isolation"]>;

/** How long a result waits for the transcript its host sent before it, in the updates queue. */
const TRANSCRIPT_CATCH_UP_MS = 15_000;

/**
 * A worker running on a host, as its coordinator sees it: its transcript, thread and usage as the
 * host's updates bring them (written to the coordinator's store), stop and input passed to the host,
 * and its result once the job completes. A host lost under it is noticed (BullMQ's stalled check);
 * BullMQ puts the job back on the queue and the next host's run takes over from here.
 */
export class RemoteRun implements RunHandle {
  readonly pid = 0;
  threadId: string | undefined;
  /** Usage over every host's run so far. */
  usage: Usage;
  readonly outcome: Promise<WorkerResult>;
  private resolveOutcome!: (result: WorkerResult) => void;
  private settled = false;
  /** The host run now feeding this worker, and how many transcript bytes of that run arrived. */
  private run: string | undefined;
  private runBytes = 0;
  private runUsage: Usage = ZERO_USAGE;
  /** Usage of host runs that were lost. */
  private priorUsage: Usage;
  private logs: RunLogs | undefined;
  private readonly arrived = new Bell();
  /** Resolved once `open` has restored the run it follows, or it closed: updates wait for it. */
  private resolveOpened!: () => void;
  private readonly opened = new Promise<void>((resolve) => {
    this.resolveOpened = resolve;
  });
  private stopCause: Exclude<StopCause, { kind: "user" }> | undefined;

  constructor(
    private readonly entry: Entry,
    /** Its job now (another after Redis lost the first). */
    public job: string,
    private readonly parts: RemoteParts,
  ) {
    this.usage = entry.status.usage;
    this.priorUsage = parts.placements.get(entry.spec.id)?.priorUsage ?? entry.status.usage;
    this.threadId = entry.status.threadId;
    this.outcome = new Promise((resolve) => {
      this.resolveOutcome = resolve;
    });
  }

  /** Opens the transcript where the coordinator's store has it. */
  async open(): Promise<void> {
    const { store, problems } = this.parts.context;
    const bytes = await store.transcriptSize(this.id);
    const logs = new RunLogs(store, this.id, bytes);
    try {
      logs.open();
      this.logs = logs;
    } catch (error) {
      problems.add(`worker ${this.id}: its transcript cannot be written: ${(error as Error).message}`);
    }
    // A coordinator started again goes on with the host run it was following.
    const { run, runStart } = this.placement ?? {};
    if (run !== undefined && runStart !== undefined)
      [this.run, this.runBytes] = [run, Math.max(0, bytes - runStart)];
    this.resolveOpened();
  }

  get transcriptBytes(): number {
    return this.logs?.transcriptBytes ?? 0;
  }

  private get id(): string {
    return this.entry.spec.id;
  }

  private get placement(): Placement | undefined {
    return this.parts.placements.get(this.id);
  }

  /**
   * Applies a host's update; "gap" when transcript text before it has not arrived yet. Resolves once
   * what a restarted coordinator needs to go on from it is on disk: the update is taken off the queue
   * only then (a coordinator killed before would otherwise drop the rest of the run as a lost host's).
   */
  async apply(update: HostUpdate): Promise<"applied" | "gap"> {
    // A coordinator started again takes updates once its first worker is followed: one for a worker
    // not restored yet would be taken for a lost host's, and dropped.
    await this.opened;
    if (this.settled) return "applied";
    const { table, events } = this.parts.context;
    if (update.run !== this.run) {
      if (!update.started) return "applied"; // what a lost host had still queued
      if (this.run !== undefined) this.hostLost(); // its stall was not seen: it is lost all the same
      await this.begin(update);
    }
    if (update.transcript) {
      const { offset, text } = update.transcript;
      if (offset > this.runBytes) return "gap";
      const bytes = Buffer.from(text, "utf8");
      const fresh = bytes.subarray(this.runBytes - offset);
      if (fresh.length > 0) {
        this.append(fresh.toString("utf8"));
        this.runBytes += fresh.length;
      }
    }
    if (update.threadId || update.usage) {
      if (update.usage) this.runUsage = update.usage;
      this.threadId = update.threadId ?? this.threadId;
      this.usage = plus(this.priorUsage, this.runUsage);
      table.move(this.entry, { threadId: this.threadId, usage: this.usage });
      const over = budgetCrossed(this.entry, this.usage, this.parts.context);
      if (over) for (const run of over.runs) void run.stopFor({ kind: "budget", reason: over.reason });
    }
    if (update.retry) {
      table.move(this.entry, { retries: update.retry.retry });
      events.emit({ type: "retry", worker: this.id, ...update.retry });
    }
    return "applied";
  }

  /** A host's run of the job began: the first, or the one taking over from a lost host. */
  private async begin(update: HostUpdate): Promise<void> {
    const { table, events } = this.parts.context;
    this.run = update.run;
    this.entry.host = update.host;
    this.runBytes = 0;
    this.runUsage = ZERO_USAGE;
    const resumed = update.started?.resumed;
    if (resumed) {
      const how = resumed === "thread" ? "in its own thread" : "from its prompt again";
      this.note(`resumed on host ${update.host}: ${how}`);
    }
    const placement = this.placement;
    if (placement) {
      const run = { run: update.run, runStart: this.transcriptBytes, priorUsage: this.priorUsage };
      await this.parts.placements
        .set(this.id, { ...placement, ...run, host: update.host, ...(resumed ? { resumed } : {}) })
        .catch((error: Error) => {
          this.parts.context.problems.add(
            `worker ${this.id}: its placement cannot be written: ${error.message}`,
          );
        });
    }
    events.emit({
      type: "started",
      worker: this.id,
      pid: update.started?.pid ?? 0,
      attempt: update.started?.attempt ?? 1,
    });
    table.move(this.entry, { startedAt: this.entry.status.startedAt });
  }

  /**
   * The host running the job was lost (BullMQ found its lock expired): the worker is `lost`, and at once
   * resumed, for BullMQ has put its job back on the queue for the next free host.
   */
  hostLost(): void {
    if (this.settled) return;
    const { table } = this.parts.context;
    const placement = this.placement;
    const host = placement?.host ?? "unknown";
    this.priorUsage = this.usage;
    this.run = undefined;
    this.note(`host ${host} was lost (its lock on the job expired): the job is back on the queue`);
    table.move(this.entry, { state: "lost", reason: { kind: "supervisor_lost" } });
    table.move(this.entry, { state: "queued", reason: undefined, resumes: this.entry.status.resumes + 1 });
    table.move(this.entry, { state: "running" });
    if (placement) {
      void this.parts.placements
        .set(this.id, { ...placement, lostHosts: [...placement.lostHosts, host] })
        .catch(() => {});
    }
  }

  /** The job completed: its return value is the worker's result. */
  async complete(outcome: JobOutcome): Promise<void> {
    if (this.settled) return;
    // The host sent its transcript before it returned; the updates queue may still be delivering it.
    const deadline = this.parts.context.clock.now() + TRANSCRIPT_CATCH_UP_MS;
    while (this.run === outcome.run && this.runBytes < outcome.transcriptBytes) {
      const left = deadline - this.parts.context.clock.now();
      if (left <= 0) break;
      await this.arrived.wait(this.parts.context.clock, left);
    }
    if (this.settled) return;
    const { stopCause: cause, placement, priorUsage } = this;
    const isolation = await landed(this.id, outcome.result.isolation, this.parts);
    if (this.settled) return;
    this.finish(completedResult({ entry: this.entry, outcome, placement, priorUsage, cause, isolation }));
  }

  /** The job failed on its host before a result (its data refused, its worker refused there). */
  fail(reason: string): void {
    this.finish(failedOnHost(this.entry, reason, this, this.parts.context.clock));
  }

  /** Ends the worker with `result`, once. */
  finish(result: WorkerResult): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveOutcome(result);
  }

  /** No update is taken after this (one waiting for `open` included). */
  close(): void {
    this.settled = true;
    this.resolveOpened();
    this.logs?.close();
    this.logs = undefined;
  }

  write(text: string): void {
    void this.parts.control({ eventName: "send", workspace: this.parts.workspace, job: this.job, text });
  }
  interrupt(): void {
    void this.parts.control({ eventName: "interrupt", workspace: this.parts.workspace, job: this.job });
  }

  /** A job no host has taken is removed (the worker never ran); else its host stops the worker. */
  stop(graceMs?: number): Promise<WorkerResult> {
    void this.stopRemote(graceMs);
    return this.outcome;
  }

  stopFor(cause: Exclude<StopCause, { kind: "user" }>): Promise<WorkerResult> {
    this.stopCause ??= cause;
    return this.stop();
  }

  private async stopRemote(graceMs: number | undefined): Promise<void> {
    try {
      if (this.run === undefined && (await this.parts.removeWaiting(this.job))) {
        this.finish(stoppedWaiting(this.entry, this.stopCause, this.usage, this.parts.context.clock));
        return;
      }
      await this.parts.control({
        eventName: "stop",
        workspace: this.parts.workspace,
        job: this.job,
        ...(graceMs === undefined ? {} : { graceSeconds: graceMs / 1000 }),
      });
    } catch (error) {
      this.parts.context.problems.add(
        `worker ${this.id}: cannot reach its host to stop it: ${(error as Error).message}`,
      );
    }
  }

  private append(text: string): void {
    if (!this.logs?.transcript(text)) return;
    this.entry.output.ring();
    this.parts.context.pulse.grew(this.id, this.transcriptBytes);
    this.arrived.ring();
  }

  private note(text: string): void {
    this.append(`\r\n[baton] ${text}\r\n`);
  }
}
