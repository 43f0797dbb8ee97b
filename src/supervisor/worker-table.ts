import { BatonError } from "../errors.js";
import type { EventBus } from "../events/bus.js";
import type { Store } from "../store/store.js";
import { isFinal, refusedMove } from "../worker/state.js";
import {
  totalTokens,
  type WorkerInfo,
  type WorkerResult,
  type WorkerSpec,
  type WorkerStatus,
  ZERO_USAGE,
} from "../worker/types.js";
import { Bell } from "./bell.js";
import { type Clock, isoNow } from "./clock.js";
import type { Problems } from "./problems.js";
import { StatusWriter } from "./status-writer.js";
import type { WorkerRun } from "./worker-run.js";

/** What the supervisor asks of a running attempt: a {@link WorkerRun} here, or one on a host. */
export type RunHandle = Pick<
  WorkerRun,
  "pid" | "usage" | "threadId" | "transcriptBytes" | "write" | "interrupt" | "stop" | "stopFor"
>;

/** One worker as the supervisor holds it. */
export interface Entry {
  readonly spec: WorkerSpec;
  /** Changed by {@link WorkerTable.move} alone: the one guarded transition. */
  readonly status: WorkerStatus;
  result: WorkerResult | undefined;
  /** The caller's environment: kept in memory only, and only until the agent starts. */
  env: Record<string, string> | undefined;
  /** The attempt running now, if any (here, or on a host of the workspace's queue). */
  run: RunHandle | undefined;
  /** Resolves once a started worker's result and final status are recorded. */
  settled: Promise<void> | undefined;
  /** Aborted by `stop`: ends a retry's wait, and keeps an agent that has not started from starting. */
  halt: AbortController;
  /**
   * Set by `resume`: continue this thread (`resend`: by sending the worker's own prompt in it again, a
   * follow-up's text the thread never took in), or run again from the start.
   */
  resumeFrom?: { readonly threadId: string | undefined; readonly resend?: boolean };
  /** Its result or status could not be written; both are written again when the supervisor closes. */
  unrecorded?: boolean;
  /** Why its stored result cannot be read, when a crash or a person damaged it. */
  resultDamage?: string;
  /** Rings when output reaches its transcript, and when it ends. */
  readonly output: Bell;
  /** The host running it, when its workspace is on a queue (its result names it once it ends). */
  host?: string;
}

/** A worker as the table first holds it: from a spawn (queued), or read back from the store. */
export function newEntry(
  spec: WorkerSpec,
  status: WorkerStatus,
  more: { env?: Record<string, string>; result?: WorkerResult; resultDamage?: string } = {},
): Entry {
  return {
    spec,
    status,
    result: more.result,
    env: more.env,
    run: undefined,
    settled: undefined,
    halt: new AbortController(),
    resultDamage: more.resultDamage,
    output: new Bell(),
  };
}

/** A status with nothing known yet but the state. */
export function blankStatus(id: string, state: WorkerStatus["state"], clock: Clock): WorkerStatus {
  return {
    id,
    state,
    pid: undefined,
    startedAt: undefined,
    endedAt: undefined,
    exitCode: undefined,
    threadId: undefined,
    usage: ZERO_USAGE,
    retries: 0,
    resumes: 0,
    reason: undefined,
    updatedAt: isoNow(clock),
  };
}

/**
 * Every worker of the workspace, by id, and the one place a worker's status changes: {@link move},
 * which passes every state change through the guard in worker/state.ts, announces what moved (state,
 * thread id, usage) on the event bus, and has the status written to the store (see StatusWriter).
 */
export class WorkerTable {
  private readonly entries = new Map<string, Entry>();
  /** Workers whose spec cannot be read, and why: left out of the table, and named when asked for. */
  private readonly damaged = new Map<string, string>();
  private readonly statuses: StatusWriter;
  private lastNumber = 0;
  /** Rings whenever a worker ends. */
  readonly ended = new Bell();

  constructor(
    private readonly store: Store,
    private readonly events: EventBus,
    private readonly problems: Problems,
    private readonly clock: Clock,
  ) {
    this.statuses = new StatusWriter(store, problems);
  }

  /** The worker `id`, or a one-line error: unknown, or stored but unreadable. */
  get(id: string): Entry {
    const entry = this.entries.get(id);
    const damage = this.damaged.get(id);
    if (!entry && damage) {
      throw new BatonError(
        "store",
        `worker ${id} cannot be read: ${damage}: restore the file, or remove ${this.store.workerDir(id)} to forget the worker`,
      );
    }
    if (!entry) throw new BatonError("not_found", `no worker "${id}" in this workspace: see \`baton ls\``);
    return entry;
  }

  /** The worker `id`, if the table holds it. */
  /** Every entry, or those of `ids` that there are (each once). */
  select(ids?: readonly string[]): Entry[] {
    return ids ? [...new Set(ids)].flatMap((id) => this.entries.get(id) ?? []) : this.all();
  }

  /** The agent pid of each running worker, with the worker's id. */
  agentPids(): Map<number, string> {
    const pids = new Map<number, string>();
    for (const entry of this.entries.values()) if (entry.run?.pid) pids.set(entry.run.pid, entry.spec.id);
    return pids;
  }

  find(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  all(): Entry[] {
    return [...this.entries.values()];
  }

  /** The next worker id: one past every id the store has held. */
  nextId(): string {
    this.lastNumber += 1;
    return `w${this.lastNumber}`;
  }

  /** An id found in the store (readable or not): no new worker gets it. */
  reserve(id: string): void {
    this.lastNumber = Math.max(this.lastNumber, Number(id.slice(1)));
  }

  /** A stored worker whose spec cannot be read. */
  markDamaged(id: string, detail: string): void {
    this.damaged.set(id, detail);
  }

  /** A worker read back from the store, as it was recorded. */
  restore(entry: Entry): void {
    this.entries.set(entry.spec.id, entry);
  }

  /** A new worker, already queued in the store: announced as spawned, then as moved from new to queued. */
  add(entry: Entry): void {
    const { spec } = entry;
    this.entries.set(spec.id, entry);
    this.events.emit({
      type: "spawned",
      worker: spec.id,
      label: spec.label,
      role: spec.role,
      backend: spec.backend,
      run: spec.group?.id,
      continues: spec.continues,
    });
    this.events.emit({ type: "state", worker: spec.id, from: "new", to: "queued", reason: undefined });
  }

  /**
   * The one guarded transition: `change` over the worker's status. A move the state union does not
   * allow is refused (a bug of Baton's own, never a worker's doing): it is reported, the state stands,
   * and false is returned. Staying put always passes (usage, thread id and pid change under one
   * state; an empty change writes the status again).
   */
  move(entry: Entry, change: Partial<Omit<WorkerStatus, "id" | "updatedAt">>): boolean {
    const before = entry.status;
    const next: WorkerStatus = { ...before, ...change, id: before.id, updatedAt: isoNow(this.clock) };
    const refused = refusedMove(before.state, next.state);
    if (refused) {
      this.problems.add(`worker ${entry.spec.id}: ${refused}`);
      return false;
    }
    (entry as { status: WorkerStatus }).status = next;
    this.announce(entry.spec.id, before, next);
    // Leaving an end (a resume) is written at once too: a stored end must never outlive the memory one.
    // So is a new state or thread: a supervisor that restarts after a crash resumes a lost worker in
    // the thread its status names. Usage, cost and pid wait to share a write.
    const now = isFinal(next.state) || isFinal(before.state) || next.state !== before.state;
    this.statuses.changed(entry, now || next.threadId !== before.threadId);
    return true;
  }

  /** Resolves once every status write, those waiting to settle too, has ended. */
  flush(): Promise<void> {
    return this.statuses.flush();
  }

  /** What `ls` shows of a worker; `queuePosition` counts from 1. */
  info(entry: Entry, queuePosition: number | undefined): WorkerInfo {
    const { spec, status } = entry;
    const started = status.startedAt ? Date.parse(status.startedAt) : undefined;
    const ended = status.endedAt ? Date.parse(status.endedAt) : undefined;
    // Files of the worker changed under the supervisor (one lstat each). What it recorded in memory is
    // still what it shows and serves; `ls` marks the worker.
    const damage = this.store.damage(spec.id);
    return {
      id: spec.id,
      label: spec.label,
      role: spec.role,
      state: status.state,
      elapsedMs: started === undefined ? 0 : (ended ?? this.clock.now()) - started,
      tokens: totalTokens(status.usage),
      usage: status.usage,
      ...(status.cost ? { cost: status.cost } : {}),
      ...(status.model ? { model: status.model } : {}),
      retries: status.retries,
      resumes: status.resumes,
      threadId: status.threadId,
      exitCode: status.exitCode,
      reason: status.reason,
      createdAt: spec.createdAt,
      confinement: spec.confinement,
      queuePosition,
      backend: spec.backend,
      ...(spec.continues ? { continues: spec.continues } : {}),
      ...(spec.group ? { run: spec.group.id } : {}),
      ...(entry.host || entry.result?.placement ? { host: entry.host ?? entry.result?.placement?.host } : {}),
      ...(damage.length > 0 ? { damage } : {}),
    };
  }

  /** The events of a status change: its state, its thread id, its usage, each when it moved. */
  private announce(worker: string, before: WorkerStatus, now: WorkerStatus): void {
    if (before.state !== now.state)
      this.events.emit({ type: "state", worker, from: before.state, to: now.state, reason: now.reason });
    if (now.threadId && now.threadId !== before.threadId)
      this.events.emit({ type: "thread", worker, threadId: now.threadId });
    const tokens = totalTokens(now.usage);
    // Its dollars may move with no new token (the agent's own figure at the end of a turn).
    if (tokens !== totalTokens(before.usage) || now.cost?.usd !== before.cost?.usd)
      this.events.emit({
        type: "usage",
        worker,
        usage: now.usage,
        tokens,
        ...(now.cost ? { cost: now.cost } : {}),
      });
  }
}
