import { createHash } from "node:crypto";
import { EventEmitter, once } from "node:events";
import { statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { backendNamed } from "../backend/registry.js";
import { readAgentFile } from "../backend/untrusted-file.js";
import { confiner, INSTALL_HINT, isWithin, writeRoots } from "../confine/index.js";
import { BatonError } from "../errors.js";
import { EventBus } from "../events/bus.js";
import { EventLog } from "../events/log.js";
import { OutputPulse } from "../events/pulse.js";
import {
  DEFAULT_GRACE_SECONDS,
  DEFAULT_IDLE_TIMEOUT_SECONDS,
  DEFAULT_MAX_PARALLEL,
  DEFAULT_POLL_BYTES,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_SECONDS,
  type PollParams,
  type ResumeParams,
  type SpawnParams,
} from "../protocol/messages.js";
import type { Store } from "../store/store.js";
import { wholeLines } from "../transcript/lines.js";
import { WORKER_PREAMBLE, workerPrompt } from "../worker/prompt.js";
import { type FinalState, isFinal, refusedMove } from "../worker/state.js";
import {
  type EndReason,
  type Scope,
  totalTokens,
  type Usage,
  type WorkerInfo,
  type WorkerResult,
  type WorkerSpec,
  type WorkerStatus,
  ZERO_USAGE,
} from "../worker/types.js";
import { collectWorktree, createWorktree, repositoryOf, type Worktree } from "./isolation.js";
import { processesWithMarkers, signalAll } from "./processes.js";
import { WORKER_ENV } from "./worker-env.js";
import { type Attempt, WorkerRun } from "./worker-run.js";
import { conflict, realScopePath } from "./writer-lock.js";

/** What `poll` returns: the output since the reader's cursor, cut to the last `maxBytes`. */
export interface PollResult {
  readonly id: string;
  readonly state: WorkerInfo["state"];
  readonly output: string;
  /** Pass back as `since` to continue from here; also remembered per reader. */
  readonly cursor: number;
  /** Bytes of new output left out because of `maxBytes` (the oldest ones). */
  readonly cut: number;
  /** The backend that ran the worker: whose parser reads its output (a readable view). */
  readonly backend: string;
}

export interface WaitResult {
  readonly workers: readonly WorkerInfo[];
  readonly timedOut: boolean;
}

interface Entry {
  readonly spec: WorkerSpec;
  status: WorkerStatus;
  result: WorkerResult | undefined;
  env: Record<string, string> | undefined;
  run: WorkerRun | undefined;
  /** Each reader's poll cursor, read from the store on the first poll after a restart. */
  cursors: Promise<Map<string, number>> | undefined;
  /** The write of the cursors under way, if any; `cursorsDirty`: another is due when it ends. */
  cursorsSaving?: Promise<void> | undefined;
  cursorsDirty?: boolean;
  statusWrite: Promise<void>;
  /** Resolves once a started worker's result and final status are recorded. */
  settled: Promise<void> | undefined;
  /** A stop came before the agent started (while its worktree was being made). */
  stopRequested?: boolean;
  /** Set by `resume`: continue this thread, or run again from the start. */
  resumeFrom?: { readonly threadId: string | undefined };
  /** Its result or status could not be written; both are written again when the supervisor closes. */
  unrecorded?: boolean;
  /** Why its stored result cannot be read, when a crash or a person damaged it. */
  resultDamage?: string;
}

/** What `baton resume` did with each worker. */
export interface ResumeOutcome {
  readonly id: string;
  /** "thread": continued in its own recorded thread; "rerun": no thread was recorded, so run again. */
  readonly how: "thread" | "rerun";
  readonly threadId: string | undefined;
}

const RESUME_PROMPT = `Baton: your previous session was cut off before you finished (the process supervising you stopped).
Continue the same task from where you left off. Do not redo work that is already done.
End with your final answer, as the task asked.
`;

/** Seconds to wait before retry `n` (1-based): 1, 2, 4, ... capped at 30. */
const retryDelayMs = (n: number) => Math.min(30, 2 ** (n - 1)) * 1000;

/** The heart of the supervisor process: the worker table, the queue behind the cap, and its events. */
export class Supervisor {
  private readonly entries = new Map<string, Entry>();
  /** Workers whose files are being written: not in `entries` yet, but already holding their paths. */
  private readonly creating = new Map<string, WorkerSpec>();
  private readonly queue: string[] = [];
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private running = 0;
  private lastNumber = 0;
  private moreProblems = 0;
  readonly storeKey: string;
  /** Problems with the store: found while loading it, or writes that failed since. */
  readonly problems: string[] = [];
  /** Workers whose spec cannot be read, and why: they are left out of the table and reported. */
  private readonly damaged = new Map<string, string>();

  /** Token budgets of runs (worker groups), by run id. */
  private readonly groupBudgets = new Map<string, number>();

  /** Everything worth seeing, in order: what `watch`, `top`, `ui` and the MCP `events` tool follow. */
  readonly events: EventBus;
  /** Output events, at most a few a second per worker (their sizes only). */
  private readonly pulse: OutputPulse;

  private constructor(
    private readonly store: Store,
    public maxParallel: number,
    private readonly graceMs: number,
  ) {
    this.storeKey = createHash("sha256").update(store.home).digest("hex").slice(0, 12);
    this.events = new EventBus(new EventLog(store.home, (line) => this.problem(line)));
    this.pulse = new OutputPulse((worker, bytes) => this.events.emit({ type: "output", worker, bytes }));
    store.onDamage = (worker, file) => this.events.emit({ type: "damage", worker, files: [file] });
  }

  /** Loads every stored worker. Workers that were running under a supervisor that died become `lost`. */
  static async load(
    store: Store,
    options: { maxParallel?: number; graceSeconds?: number } = {},
  ): Promise<Supervisor> {
    const supervisor = new Supervisor(
      store,
      options.maxParallel ?? DEFAULT_MAX_PARALLEL,
      (options.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000,
    );
    await supervisor.recover();
    return supervisor;
  }

  private async recover(): Promise<void> {
    const lost: string[] = [];
    for (const id of await this.store.workerIds()) {
      this.lastNumber = Math.max(this.lastNumber, Number(id.slice(1)));
      const [spec, status, result] = await Promise.all([
        this.store.readSpec(id),
        this.store.readStatus(id),
        this.store.readResult(id),
      ]);
      for (const read of [spec, status, result])
        if (read.ok === false && read.kind === "corrupt") this.problem(`worker ${id}: ${read.detail}`);
      const ended = result.ok || (status.ok && isFinal(status.value.state));
      if (!spec.ok) {
        // Without its spec the worker cannot be shown; whatever it left running goes all the same.
        if (!ended) lost.push(this.markerOf(id));
        if (spec.kind === "corrupt") this.damaged.set(id, spec.detail);
        continue;
      }
      // A status that cannot be read says nothing about how the worker ended: treat it as unfinished.
      const stored: WorkerStatus = status.ok ? status.value : blankStatus(id, "running");
      const entry: Entry = {
        spec: spec.value,
        status: stored,
        result: result.ok ? result.value : undefined,
        env: undefined,
        run: undefined,
        cursors: undefined,
        statusWrite: Promise.resolve(),
        settled: undefined,
        resultDamage: result.ok === false && result.kind === "corrupt" ? result.detail : undefined,
      };
      this.entries.set(id, entry);
      const group = spec.value.group;
      if (group?.maxTokens !== undefined) this.groupBudgets.set(group.id, group.maxTokens);
      if (entry.result && (!status.ok || !isFinal(stored.state))) {
        // The result was written but the status was not, or was damaged since: the result wins.
        const { state, endedAt, exitCode, threadId, usage, reason, retries, resumes } = entry.result;
        this.setStatus(entry, {
          ...stored,
          state,
          endedAt,
          exitCode,
          threadId,
          usage,
          reason,
          retries,
          resumes,
        });
      } else if (!isFinal(stored.state)) {
        // Its supervisor died. Anything it left running carries our marker: stopped below, in one pass.
        lost.push(this.markerOf(id));
        this.setStatus(entry, {
          ...stored,
          state: "lost",
          endedAt: new Date().toISOString(),
          reason: { kind: "supervisor_lost" },
        });
      }
    }
    signalAll(processesWithMarkers(lost), "SIGKILL");
  }

  /** Records a problem once; past a hundred, only their number grows (the list is for people to read). */
  private problem(line: string): void {
    if (this.problems.includes(line)) return;
    this.events.emit({ type: "problem", text: line });
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(line);
    else this.problems[MAX_PROBLEMS] = `and ${++this.moreProblems} more problems`;
  }

  private markerValue(id: string): string {
    return `${this.storeKey}:${id}`;
  }

  /** The `NAME=value` entry that every process of worker `id` carries in its environment. */
  private markerOf(id: string): string {
    return `${WORKER_ENV.marker}=${this.markerValue(id)}`;
  }

  async spawn(request: SpawnParams): Promise<{ id: string }> {
    if (request.env[WORKER_ENV.id]) {
      throw new BatonError(
        "nested",
        `workers cannot spawn workers (this is worker ${request.env[WORKER_ENV.id]}): report back to the orchestrator instead`,
      );
    }
    const { params, threadId } = this.followUp(request);
    if (params.cwd === undefined)
      throw new BatonError("usage", "spawn: cwd: give the agent's working directory");
    const cwd = resolve(params.cwd);
    if (!isDirectory(cwd))
      throw new BatonError("usage", `--cwd ${cwd} is not a folder: give an existing folder`);
    if (params.readOnly && params.write?.length) {
      throw new BatonError("usage", "--read-only and --write exclude each other: choose one");
    }
    const backend = backendNamed(params.backend ?? "codex");
    const bin = backend.locate({ explicitBin: params.bin, env: params.env, cwd });
    if (params.maxParallel !== undefined) this.maxParallel = params.maxParallel;
    const scope = scopeOf(params, cwd);
    const confinement = this.confinementFor(params, scope);
    if (params.isolate) {
      if (scope.kind !== "write") {
        throw new BatonError("usage", "--isolate is for writers: add --write PATH or --role implementer");
      }
      await repositoryOf(cwd);
    }
    if (params.noWait && !params.isolate) {
      const holder = this.holderOf(scope);
      if (holder) {
        throw new BatonError(
          "busy",
          `worker ${holder.id} holds ${holder.path} for writing: wait for it (drop --no-wait) or write other paths`,
        );
      }
    }
    if (params.group) {
      if (params.group.maxTokens !== undefined)
        this.groupBudgets.set(params.group.id, params.group.maxTokens);
      const over = this.groupOverBudget(params.group.id);
      if (over) {
        throw new BatonError(
          "budget",
          `run ${params.group.id} has used ${over.used} of its ${over.limit} tokens: raise its budget to start more workers`,
        );
      }
    }
    // Research looks things up: the agent's web search is on unless turned off.
    const search = params.search ?? (params.role === "research" ? true : undefined);
    this.lastNumber += 1;
    const id = `w${this.lastNumber}`;
    const spec: WorkerSpec = {
      id,
      label: params.label,
      role: params.role,
      scope,
      cwd,
      model: params.model,
      timeoutSeconds: params.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
      idleTimeoutSeconds: params.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS,
      maxTokens: params.maxTokens,
      retries: params.retries ?? DEFAULT_RETRIES,
      group: params.group ? { id: params.group.id, maxTokens: params.group.maxTokens } : undefined,
      backend: backend.name,
      bin,
      task: params.task,
      outputSchema: params.outputSchema !== undefined,
      isolate: params.isolate === true,
      confinement,
      createdAt: new Date().toISOString(),
      ...(params.continues ? { continues: params.continues } : {}),
      ...(search === undefined ? {} : { search }),
    };
    // A follow-up's thread is its own from the start: it continues it, and its result names it.
    const status = { ...blankStatus(id, "queued"), threadId };
    // A follow-up is a new message in a thread that has its brief already: it goes as it was given.
    const prompt = threadId
      ? (params.prompt ?? params.task)
      : params.prompt?.startsWith(WORKER_PREAMBLE)
        ? params.prompt
        : params.prompt
          ? `${WORKER_PREAMBLE}\n${params.prompt}`
          : workerPrompt(params.task, scope);
    // Held from here, so that a --no-wait writer spawned while these files are written sees this one.
    this.creating.set(id, spec);
    try {
      await this.store.createWorker(spec, prompt, status, params.outputSchema);
    } finally {
      this.creating.delete(id);
    }
    const entry: Entry = {
      spec,
      status,
      result: undefined,
      env: params.env,
      run: undefined,
      cursors: Promise.resolve(new Map()),
      statusWrite: Promise.resolve(),
      settled: undefined,
    };
    this.entries.set(id, entry);
    this.events.emit({
      type: "spawned",
      worker: id,
      label: spec.label,
      role: spec.role,
      backend: spec.backend,
      run: spec.group?.id,
      continues: spec.continues,
    });
    this.events.emit({ type: "state", worker: id, from: "new", to: "queued", reason: undefined });
    this.queue.push(id);
    this.pump();
    return { id };
  }

  /**
   * A follow-up (`continues`): the ended worker whose agent thread it continues, and the request with
   * what it leaves unset taken from that worker (cwd, role, scope, label, model, binary, isolation,
   * search). Refused in one line when that worker is unknown, has not ended, ended without a thread,
   * or is being continued already: two turns at once in one thread would interleave.
   */
  private followUp(request: SpawnParams): { params: SpawnParams; threadId: string | undefined } {
    if (!request.continues) return { params: request, threadId: undefined };
    const parentId = request.continues;
    const parent = this.entry(parentId);
    const { spec, status } = parent;
    const again = `wait for it (\`baton wait ${parentId}\`), then continue it`;
    if (status.state === "lost")
      throw new BatonError(
        "usage",
        `worker ${parentId} was lost with its supervisor: continue its own task with \`baton resume ${parentId}\`, then follow up`,
      );
    if (!isFinal(status.state))
      throw new BatonError("not_finished", `worker ${parentId} is still ${status.state}: ${again}`);
    if (request.backend !== undefined && request.backend !== spec.backend)
      throw new BatonError(
        "usage",
        `worker ${parentId} ran on ${spec.backend}: a follow-up continues its thread on the same backend`,
      );
    const threadId = backendNamed(spec.backend).canResume ? status.threadId : undefined;
    if (!threadId)
      throw new BatonError(
        "usage",
        `worker ${parentId} has no agent thread to continue (its agent never started one): spawn a new worker instead`,
      );
    for (const other of this.entries.values()) {
      if (!isFinal(other.status.state) && other.status.threadId === threadId)
        throw new BatonError(
          "busy",
          `worker ${other.spec.id} is continuing the thread of ${parentId} already: ${again.replace(parentId, other.spec.id)}`,
        );
    }
    const scoped = request.write?.length || request.readOnly || request.role;
    const params: SpawnParams = {
      ...request,
      cwd: request.cwd ?? spec.cwd,
      role: request.role ?? spec.role,
      label: request.label ?? spec.label,
      model: request.model ?? spec.model,
      backend: spec.backend,
      bin: request.bin ?? spec.bin,
      isolate: request.isolate ?? spec.isolate,
      search: request.search ?? spec.search,
      ...(scoped ? {} : spec.scope.kind === "write" ? { write: [...spec.scope.paths] } : { readOnly: true }),
    };
    return { params, threadId };
  }

  /**
   * Starts queued workers, in order, while there is room under the cap. A writer whose paths overlap
   * a running writer's, or an earlier queued writer's, keeps its place; others may go past it.
   */
  private pump(): void {
    const waiting: (Scope | undefined)[] = [];
    const holders = [...this.entries.values()].filter((e) => e.status.state === "running");
    for (let i = 0; i < this.queue.length && this.running < this.maxParallel; ) {
      const entry = this.entries.get(this.queue[i]!);
      if (entry?.status.state !== "queued") {
        this.queue.splice(i, 1);
        continue;
      }
      const blocked = [...holders.map((h) => lockScope(h.spec)), ...waiting].some((held) =>
        conflict(lockScope(entry.spec), held),
      );
      if (blocked) {
        waiting.push(lockScope(entry.spec));
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      const over = entry.spec.group ? this.groupOverBudget(entry.spec.group.id) : undefined;
      if (over) {
        void this.settle(entry, endedWithout(entry.spec, "over_budget", over), false);
        continue;
      }
      this.startRun(entry);
      holders.push(entry);
    }
  }

  /**
   * Whether Baton's own sandbox will hold the worker. A writer is refused where it cannot (unless the
   * caller said `unconfined`); a reader then runs in the agent's own read-only sandbox alone. No
   * `--write` may reach into the run store.
   */
  private confinementFor(params: SpawnParams, scope: Scope): WorkerSpec["confinement"] {
    const store = realScopePath(this.store.home);
    // An isolated writer's paths are taken into its own worktree, away from the shared checkout.
    for (const path of params.isolate ? [] : (params.write ?? [])) {
      const real = realScopePath(path, params.cwd);
      if (writeRoots([real])[0] === "/") {
        throw new BatonError(
          "usage",
          `--write ${path}: Baton lets no worker write in / itself: name a folder below it`,
        );
      }
      if (isWithin(store, real) || isWithin(real, store)) {
        throw new BatonError(
          "usage",
          `--write ${path} ${real === store || isWithin(store, real) ? "contains" : "is inside"} the run store ${store}: no worker may write it; name the files or folders to change instead`,
        );
      }
    }
    if (params.unconfined) return "unconfined";
    const confined = confiner();
    if (confined.ok) return "baton";
    if (scope.kind === "write") {
      throw new BatonError("usage", `cannot confine a writer here: ${confined.why}: ${INSTALL_HINT}`);
    }
    return "unconfined";
  }

  /** The unfinished writer that holds a path `scope` wants to write, if any. */
  private holderOf(scope: Scope): { id: string; path: string } | undefined {
    const unfinished = [...this.entries.values()].filter((e) => !isFinal(e.status.state)).map((e) => e.spec);
    for (const spec of [...unfinished, ...this.creating.values()]) {
      const clash = conflict(scope, lockScope(spec));
      if (clash) return { id: spec.id, path: clash.heldPath };
    }
    return undefined;
  }

  private startRun(entry: Entry): void {
    this.running += 1;
    this.setStatus(entry, { ...entry.status, state: "running", startedAt: new Date().toISOString() });
    entry.settled = this.runWorker(entry);
  }

  /** One worker from start to recorded result, in its own worktree when isolated. */
  private async runWorker(entry: Entry): Promise<void> {
    const { spec } = entry;
    let worktree: Worktree | undefined;
    let runSpec = spec;
    if (spec.isolate) {
      try {
        worktree = await createWorktree(this.store.home, spec.id, this.storeKey, spec.cwd);
        runSpec = inWorktree(spec, worktree);
      } catch (error) {
        await this.settle(
          entry,
          endedWithout(spec, "failed", { kind: "spawn_failed", message: errorText(error) }),
        );
        return;
      }
    }
    if (entry.stopRequested) {
      await this.settle(entry, endedWithout(spec, "canceled", { kind: "stopped", by: "user", via: "stop" }));
      return;
    }
    const env: Record<string, string> = {
      ...entry.env,
      [WORKER_ENV.id]: spec.id,
      [WORKER_ENV.marker]: this.markerValue(spec.id),
      BATON_HOME: this.store.home,
      TERM: "xterm-256color",
    };
    entry.env = undefined; // secrets stay in memory only as long as needed
    let result = await this.attempts(entry, runSpec, env);
    if (worktree) {
      try {
        const message = `baton ${spec.id}: ${spec.label ?? spec.task.split("\n")[0]?.slice(0, 60)}`;
        result = { ...result, isolation: await collectWorktree(worktree, message) };
      } catch (error) {
        this.problem(
          `worker ${spec.id}: could not collect its worktree ${worktree.path}: ${errorText(error)}`,
        );
      }
    }
    await this.settle(entry, result);
  }

  /**
   * Runs the worker's agent until it ends for good: a transient failure (model 5xx, a model that never
   * answers) is run again, up to `spec.retries` times, unless the attempt already changed files.
   */
  private async attempts(
    entry: Entry,
    runSpec: WorkerSpec,
    env: Record<string, string>,
  ): Promise<WorkerResult> {
    const { spec } = entry;
    const backend = backendNamed(spec.backend);
    const resumeFrom = entry.resumeFrom;
    entry.resumeFrom = undefined;
    let attempt = freshAttempt(entry, entry.status.usage);
    let note: string | undefined;
    let transcriptBytes = 0;
    if (resumeFrom) {
      transcriptBytes = await this.store.transcriptSize(spec.id);
      if (resumeFrom.threadId) {
        attempt = {
          ...attempt,
          resumeThreadId: resumeFrom.threadId,
          threadId: resumeFrom.threadId,
          promptFile: this.store.file(spec.id, "resume.txt"),
        };
        note = `resumed in its own thread ${resumeFrom.threadId}`;
      } else note = "resumed: no thread was recorded, so it runs again from the start";
    }
    let retries = entry.status.retries;
    for (;;) {
      const run = new WorkerRun(
        this.store,
        runSpec,
        backend,
        env,
        this.markerOf(spec.id),
        {
          output: () => {
            this.emitter.emit(`output:${spec.id}`);
            this.pulse.grew(spec.id, run.transcriptBytes);
          },
          progress: () => {
            this.setStatus(entry, { ...entry.status, threadId: run.threadId, usage: run.usage });
            this.checkBudgets(entry, run);
          },
        },
        transcriptBytes,
        this.graceMs,
        attempt,
      );
      entry.run = run;
      run.start();
      if (run.pid) {
        const attemptNumber = retries + 1;
        this.events.emit({ type: "started", worker: spec.id, pid: run.pid, attempt: attemptNumber });
      }
      if (note) run.note(note);
      this.setStatus(entry, {
        ...entry.status,
        pid: run.pid || undefined,
        startedAt: entry.status.startedAt ?? new Date(run.startedAt).toISOString(),
      });
      const result = await run.ended;
      if (run.storeError) this.problem(`worker ${spec.id}: ${run.storeError}`);
      transcriptBytes = run.transcriptBytes;
      const budget = this.overBudget(entry, run);
      const retry =
        run.transient !== undefined &&
        retries < spec.retries &&
        !entry.stopRequested &&
        !run.changedFiles &&
        budget === undefined;
      if (!retry) return { ...result, retries, resumes: entry.status.resumes };
      retries += 1;
      note = `retry ${retries} of ${spec.retries} after a transient failure: ${run.transient}`;
      this.setStatus(entry, { ...entry.status, retries, usage: result.usage, threadId: result.threadId });
      this.events.emit({ type: "retry", worker: spec.id, retry: retries, reason: run.transient ?? "" });
      await this.store
        .appendEvent(spec.id, {
          at: new Date().toISOString(),
          type: "retry",
          retry: retries,
          reason: run.transient,
        })
        .catch(() => {});
      entry.run = undefined;
      await this.until(`stop:${spec.id}`, retryDelayMs(retries));
      if (entry.stopRequested) {
        return {
          ...endedWithout(spec, "canceled", { kind: "stopped", by: "user", via: "stop" }),
          usage: result.usage,
          threadId: result.threadId,
          retries,
          resumes: entry.status.resumes,
        };
      }
      attempt = freshAttempt(entry, result.usage);
    }
  }

  /** The budget `run`'s usage has crossed: its own first, then its run's. */
  private overBudget(entry: Entry, run: WorkerRun): EndReason | undefined {
    const { maxTokens, group } = entry.spec;
    const used = totalTokens(run.usage);
    if (maxTokens !== undefined && used > maxTokens)
      return { kind: "budget", scope: "worker", limit: maxTokens, used };
    return group ? this.groupOverBudget(group.id) : undefined;
  }

  /** Stops a worker that crossed its budget; a run's budget stops every worker of that run. */
  private checkBudgets(entry: Entry, run: WorkerRun): void {
    const reason = this.overBudget(entry, run);
    if (reason?.kind !== "budget") return;
    if (reason.scope === "worker") {
      void run.stopFor({ kind: "budget", reason });
      return;
    }
    for (const other of this.entries.values()) {
      if (other.spec.group?.id !== entry.spec.group?.id) continue;
      if (other.run) void other.run.stopFor({ kind: "budget", reason });
    }
  }

  /** Whether a run's workers together have used more than its budget. */
  private groupOverBudget(group: string): Extract<EndReason, { kind: "budget" }> | undefined {
    const limit = this.groupBudgets.get(group);
    if (limit === undefined) return undefined;
    let used = 0;
    for (const entry of this.entries.values()) {
      if (entry.spec.group?.id === group)
        used += totalTokens(entry.run ? entry.run.usage : entry.status.usage);
    }
    return used > limit ? { kind: "budget", scope: "run", limit, used } : undefined;
  }

  /** Continues lost workers: in their own recorded thread when there is one, else from the start. */
  async resume(params: ResumeParams): Promise<ResumeOutcome[]> {
    if (params.env[WORKER_ENV.id]) {
      throw new BatonError(
        "nested",
        "workers cannot resume workers: report back to the orchestrator instead",
      );
    }
    // A worker named twice is resumed once.
    const targets = params.ids?.length
      ? [...new Set(params.ids)].map((id) => this.entry(id))
      : [...this.entries.values()].filter((e) => e.status.state === "lost" && !e.result);
    for (const entry of targets) {
      if (entry.status.state !== "lost" || entry.result) {
        throw new BatonError(
          "usage",
          `worker ${entry.spec.id} is ${entry.status.state}, not lost: only workers whose supervisor died can be resumed`,
        );
      }
    }
    // Every target is claimed (queued) before the first await: a resume racing this one (another
    // terminal, another call in the same tick) finds them no longer lost, so each starts once.
    const claimed = targets.map((entry) => {
      const before = entry.status;
      const threadId = backendNamed(entry.spec.backend).canResume ? before.threadId : undefined;
      this.setStatus(entry, {
        ...before,
        state: "queued",
        pid: undefined,
        endedAt: undefined,
        reason: undefined,
        resumes: before.resumes + 1,
      });
      return { entry, before, threadId };
    });
    const outcomes: ResumeOutcome[] = [];
    for (const [index, { entry, threadId }] of claimed.entries()) {
      const { id } = entry.spec;
      try {
        if (threadId) await this.store.writeText(id, "resume.txt", RESUME_PROMPT);
      } catch (error) {
        // The ones not queued yet are lost again, as they were; the ones queued run.
        for (const rest of claimed.slice(index)) {
          if (rest.entry.status.state === "queued") this.setStatus(rest.entry, rest.before);
        }
        this.pump();
        throw error;
      }
      entry.env = params.env;
      entry.resumeFrom = { threadId };
      entry.stopRequested = false;
      this.queue.push(id);
      outcomes.push({ id, how: threadId ? "thread" : "rerun", threadId });
    }
    this.pump();
    return outcomes;
  }

  private async settle(entry: Entry, result: WorkerResult, started = true): Promise<void> {
    if (started) this.running -= 1;
    entry.result = result;
    await this.recordResult(entry);
    this.pulse.end(entry.spec.id);
    this.events.emit({
      type: "answer",
      worker: entry.spec.id,
      state: result.state,
      chars: result.answer.length,
    });
    this.setStatus(entry, {
      ...entry.status,
      state: result.state,
      endedAt: result.endedAt,
      exitCode: result.exitCode,
      threadId: result.threadId,
      usage: result.usage,
      reason: result.reason,
    });
    entry.run = undefined;
    this.emitter.emit(`output:${entry.spec.id}`);
    this.emitter.emit("ended", entry.spec.id);
    this.pump();
  }

  /** Writes the worker's result. If the store refuses, it is kept in memory, reported, and retried at close. */
  private async recordResult(entry: Entry): Promise<void> {
    if (!entry.result) return;
    try {
      await this.store.writeResult(entry.result);
    } catch (error) {
      entry.unrecorded = true;
      this.problem(`worker ${entry.spec.id}: its result is held in memory only: ${(error as Error).message}`);
    }
  }

  private setStatus(entry: Entry, status: Omit<WorkerStatus, "updatedAt">): void {
    const refused = refusedMove(entry.status.state, status.state);
    if (refused) {
      // A bug of Baton's own, never a worker's doing: the state it had stands, and it is reported.
      this.problem(`worker ${entry.spec.id}: ${refused}`);
      return;
    }
    const next: WorkerStatus = { ...status, updatedAt: new Date().toISOString() };
    const before = entry.status;
    entry.status = next;
    this.announce(entry.spec.id, before, next);
    entry.statusWrite = entry.statusWrite
      .then(() => this.store.writeStatus(next))
      .catch((error: Error) => {
        entry.unrecorded = true;
        this.problem(`worker ${entry.spec.id}: ${error.message}`);
      });
  }

  /** The events of a status change: its state, its thread id, its usage, each when it moved. */
  private announce(worker: string, before: WorkerStatus, now: WorkerStatus): void {
    if (before.state !== now.state)
      this.events.emit({ type: "state", worker, from: before.state, to: now.state, reason: now.reason });
    if (now.threadId && now.threadId !== before.threadId)
      this.events.emit({ type: "thread", worker, threadId: now.threadId });
    const tokens = totalTokens(now.usage);
    if (tokens !== totalTokens(before.usage))
      this.events.emit({ type: "usage", worker, usage: now.usage, tokens });
  }

  private entry(id: string): Entry {
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

  list(): WorkerInfo[] {
    return [...this.entries.values()].map((entry) => this.info(entry));
  }

  info(entry: Entry): WorkerInfo {
    const { spec, status } = entry;
    const started = status.startedAt ? Date.parse(status.startedAt) : undefined;
    const ended = status.endedAt ? Date.parse(status.endedAt) : undefined;
    const queueIndex = status.state === "queued" ? this.queue.indexOf(spec.id) : -1;
    // Files of the worker changed under the supervisor (one lstat each). What it recorded in memory is
    // still what it shows and serves; `ls` marks the worker.
    const damage = this.store.damage(spec.id);
    return {
      id: spec.id,
      label: spec.label,
      role: spec.role,
      state: status.state,
      elapsedMs: started === undefined ? 0 : (ended ?? Date.now()) - started,
      tokens: totalTokens(status.usage),
      usage: status.usage,
      retries: status.retries,
      resumes: status.resumes,
      threadId: status.threadId,
      exitCode: status.exitCode,
      reason: status.reason,
      createdAt: spec.createdAt,
      confinement: spec.confinement,
      queuePosition: queueIndex >= 0 ? queueIndex + 1 : undefined,
      backend: spec.backend,
      ...(spec.continues ? { continues: spec.continues } : {}),
      ...(spec.group ? { run: spec.group.id } : {}),
      ...(damage.length > 0 ? { damage } : {}),
    };
  }

  /**
   * Keeps the cursors in the store, so that a poll after a restart goes on where the last one ended.
   * One write at a time, the newest cursors last. A write that fails costs nothing but output shown
   * twice, so it is not reported.
   */
  private saveCursors(entry: Entry, cursors: ReadonlyMap<string, number>): void {
    if (entry.cursorsSaving) {
      entry.cursorsDirty = true;
      return;
    }
    entry.cursorsSaving = (async () => {
      do {
        entry.cursorsDirty = false;
        await this.store.writeCursors(entry.spec.id, cursors).catch(() => {});
      } while (entry.cursorsDirty);
      entry.cursorsSaving = undefined;
    })();
  }

  async poll(params: PollParams, signal?: AbortSignal): Promise<PollResult> {
    const entry = this.entry(params.id);
    const reader = params.reader ?? "default";
    entry.cursors ??= this.store.readCursors(params.id);
    const cursors = await entry.cursors;
    const cursor = params.since ?? cursors.get(reader) ?? 0;
    const maxBytes = params.maxBytes ?? DEFAULT_POLL_BYTES;
    const deadline = Date.now() + (params.waitMs ?? 0);
    for (;;) {
      const running = !isFinal(entry.status.state);
      const end = await this.transcriptEnd(entry);
      const from = Math.min(cursor, end);
      let start = Math.max(from, end - maxBytes);
      let bytes = await this.store.readTranscript(params.id, start, end - start);
      // Never start in the middle of a UTF-8 character.
      let skip = 0;
      while (skip < bytes.length && skip < 4 && (bytes[skip]! & 0xc0) === 0x80) skip++;
      bytes = bytes.subarray(skip);
      start += skip;
      if (params.wholeLines) ({ bytes, start } = wholeLines(bytes, start, from, running));
      const shownTo = params.wholeLines ? start + bytes.length : end;
      const left = deadline - Date.now();
      if (shownTo <= cursor && running && left > 0 && !signal?.aborted) {
        // Nothing new (or, for a readable poll, no whole line yet): wait for output or the end.
        await this.until(`output:${params.id}`, left, signal);
        continue;
      }
      const next = Math.max(shownTo, from);
      if (cursors.get(reader) !== next) {
        cursors.set(reader, next);
        this.saveCursors(entry, cursors);
      }
      return {
        id: params.id,
        state: entry.status.state,
        output: bytes.toString("utf8"),
        cursor: next,
        cut: start - from,
        backend: entry.spec.backend,
      };
    }
  }

  private async transcriptEnd(entry: Entry): Promise<number> {
    return entry.run ? entry.run.transcriptBytes : this.store.transcriptSize(entry.spec.id);
  }

  /** Resolves when `event` fires, `ms` pass, or `signal` aborts, whichever is first. */
  private async until(event: string, ms: number, signal?: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), ms);
    const onAbort = () => controller.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await once(this.emitter, event, { signal: controller.signal });
    } catch {
      // timed out or aborted: the caller reads whatever there is
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  send(id: string, text: string, enter = true): void {
    const entry = this.entry(id);
    if (!entry.run)
      throw new BatonError("usage", `worker ${id} is ${entry.status.state}, not running: nothing to send to`);
    if (!backendNamed(entry.spec.backend).acceptsInput(entry.spec.bin)) {
      throw new BatonError(
        "usage",
        `worker ${id} runs \`${entry.spec.backend} exec\`, which closed its input once it read its prompt: nothing typed reaches it; once it ends, continue its thread with \`baton spawn --continue ${id} "..."\``,
      );
    }
    entry.run.write(enter ? `${text}\r` : text);
  }

  interrupt(id: string): void {
    const entry = this.entry(id);
    if (!entry.run)
      throw new BatonError(
        "usage",
        `worker ${id} is ${entry.status.state}, not running: nothing to interrupt`,
      );
    entry.run.interrupt();
  }

  /** Stops workers gracefully and resolves once each has ended. Returns the ids it stopped. */
  async stop(params: { ids?: string[]; all?: boolean; graceSeconds?: number }): Promise<string[]> {
    const targets = params.all
      ? [...this.entries.values()].filter((e) => !isFinal(e.status.state))
      : (params.ids ?? []).map((id) => this.entry(id)).filter((e) => !isFinal(e.status.state));
    const graceMs = params.graceSeconds === undefined ? undefined : params.graceSeconds * 1000;
    await Promise.all(targets.map((entry) => this.stopOne(entry, graceMs)));
    return targets.map((entry) => entry.spec.id);
  }

  private async stopOne(entry: Entry, graceMs: number | undefined): Promise<void> {
    entry.stopRequested = true;
    if (entry.status.state === "queued") {
      const index = this.queue.indexOf(entry.spec.id);
      if (index >= 0) this.queue.splice(index, 1);
      entry.env = undefined;
      await this.settle(
        entry,
        endedWithout(entry.spec, "canceled", { kind: "stopped", by: "user", via: "stop" }),
        false,
      );
      return;
    }
    this.emitter.emit(`stop:${entry.spec.id}`);
    void entry.run?.stop(graceMs);
    await entry.settled;
  }

  /** Waits until the given workers (default: all unfinished) end, or one of them with `any`. */
  async wait(
    params: { ids?: string[]; any?: boolean; timeoutMs?: number },
    signal?: AbortSignal,
  ): Promise<WaitResult> {
    const entries = params.ids?.length
      ? params.ids.map((id) => this.entry(id))
      : [...this.entries.values()].filter((e) => !isFinal(e.status.state));
    const done = () =>
      params.any && entries.length > 0
        ? entries.some((e) => isFinal(e.status.state))
        : entries.every((e) => isFinal(e.status.state));
    const deadline =
      params.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + params.timeoutMs;
    while (!done()) {
      if (signal?.aborted) throw new BatonError("aborted", "wait was aborted");
      const left = deadline - Date.now();
      if (left <= 0) return { workers: entries.map((e) => this.info(e)), timedOut: true };
      await this.until("ended", Math.min(left, 2_147_483_647), signal);
    }
    return { workers: entries.map((e) => this.info(e)), timedOut: false };
  }

  async result(id: string): Promise<WorkerResult> {
    const entry = this.entry(id);
    if (entry.result) return entry.result;
    if (entry.resultDamage) {
      throw new BatonError(
        "store",
        `the result of worker ${id} cannot be read: ${entry.resultDamage}: its output is still in \`baton logs ${id}\``,
      );
    }
    const { state } = entry.status;
    if (!isFinal(state)) {
      throw new BatonError(
        "not_finished",
        `worker ${id} is still ${state}: wait for it with \`baton wait ${id}\``,
      );
    }
    // Lost workers have no stored result, so that a later resume can still write one.
    return {
      id,
      label: entry.spec.label,
      role: entry.spec.role,
      state,
      answer: readAgentFile(join(this.store.workerDir(id), "tmp", "last-message.txt")) ?? "",
      answerSource: "none",
      answerMismatch: false,
      exitCode: entry.status.exitCode,
      durationMs: 0,
      usage: entry.status.usage,
      retries: entry.status.retries,
      resumes: entry.status.resumes,
      threadId: entry.status.threadId,
      reason: entry.status.reason,
      endedAt: entry.status.endedAt ?? entry.status.updatedAt,
    };
  }

  /** The agent pid of each running worker, with the worker's id: what callers are checked against. */
  workerPids(): Map<number, string> {
    const pids = new Map<number, string>();
    for (const entry of this.entries.values()) if (entry.run?.pid) pids.set(entry.run.pid, entry.spec.id);
    return pids;
  }

  /** True while any worker is queued or running. */
  get busy(): boolean {
    return this.running > 0 || this.queue.length > 0;
  }

  /** Stops every worker and waits for their records to be written. */
  async close(graceSeconds?: number): Promise<void> {
    await this.stop({ all: true, ...(graceSeconds === undefined ? {} : { graceSeconds }) });
    // What the store refused earlier gets one more try: space may have been freed since.
    for (const entry of this.entries.values()) {
      if (!entry.unrecorded) continue;
      entry.unrecorded = false;
      await this.recordResult(entry);
      this.setStatus(entry, entry.status);
    }
    await Promise.all([...this.entries.values()].flatMap((e) => [e.statusWrite, e.cursorsSaving]));
    this.pulse.close();
    this.events.close();
  }
}

const MAX_PROBLEMS = 100;

/** The result of a worker that ended before its agent ran. */
function endedWithout(spec: WorkerSpec, state: FinalState, reason: EndReason): WorkerResult {
  return {
    id: spec.id,
    label: spec.label,
    role: spec.role,
    state,
    answer: "",
    answerSource: "none",
    answerMismatch: false,
    exitCode: undefined,
    durationMs: 0,
    usage: ZERO_USAGE,
    retries: 0,
    resumes: 0,
    threadId: undefined,
    reason,
    endedAt: new Date().toISOString(),
  };
}

/** How an attempt starts afresh: a follow-up's in its thread (with its own prompt), others anew. */
function freshAttempt(entry: Entry, priorUsage: Usage): Attempt {
  const threadId = entry.spec.continues ? entry.status.threadId : undefined;
  return threadId ? { priorUsage, resumeThreadId: threadId, threadId } : { priorUsage };
}

/** The spec as the agent sees it inside its worktree: same relative cwd and write paths. */
function inWorktree(spec: WorkerSpec, worktree: Worktree): WorkerSpec {
  const move = (path: string) => join(worktree.path, relative(worktree.repo, path));
  return {
    ...spec,
    cwd: worktree.cwd,
    scope: spec.scope.kind === "write" ? { kind: "write", paths: spec.scope.paths.map(move) } : spec.scope,
  };
}

/** What a worker holds under the writer lock: nothing when it writes in its own worktree. */
function lockScope(spec: WorkerSpec): Scope | undefined {
  return spec.isolate ? undefined : spec.scope;
}

function errorText(error: unknown): string {
  return (error as Error)?.message?.split("\n")[0] ?? String(error);
}

function blankStatus(id: string, state: WorkerStatus["state"]): WorkerStatus {
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
    updatedAt: new Date().toISOString(),
  };
}

/** The worker's scope, its paths real (see realScopePath): the writer lock and the sandbox rely on it. */
function scopeOf(params: SpawnParams, cwd: string): Scope {
  if (params.write?.length) return { kind: "write", paths: params.write.map((p) => realScopePath(p, cwd)) };
  if (!params.readOnly && params.role === "implementer")
    return { kind: "write", paths: [realScopePath(cwd)] };
  return { kind: "read-only" };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
