import { closeSync, writeSync } from "node:fs";
import pty from "@lydell/node-pty";
import type { AgentEvent, Backend, LiveUsage, OutputParser } from "../backend/backend.js";
import type { SweepReport } from "../confine/index.js";
import { Redactor, redact, redactJson, secretsOf } from "../store/redact.js";
import { type Store, storeError } from "../store/store.js";
import type { FinalState } from "../worker/state.js";
import type { EndReason, Usage, WorkerResult, WorkerSpec } from "../worker/types.js";
import { totalTokens, ZERO_USAGE } from "../worker/types.js";
import { identify, leftoversOf, type ProcessId, signalAll, terminate, workerProcesses } from "./processes.js";
import { clearAfter, launchWorker, type WorkerLaunch } from "./worker-launch.js";

/** How long what an agent left running gets between SIGTERM and SIGKILL once the agent has ended. */
const LEFTOVER_GRACE_MS = 1000;

export interface RunHooks {
  /** New bytes reached the transcript. */
  output(): void;
  /** The thread id or the usage changed. */
  progress(): void;
}

/** How this attempt starts: fresh, or continuing a recorded thread; and what earlier attempts used. */
export interface Attempt {
  readonly resumeThreadId?: string;
  /** The prompt file for this attempt (a resume sends a short "continue" prompt). */
  readonly promptFile?: string;
  readonly priorUsage: Usage;
  readonly threadId?: string;
}

/** Why Baton itself ended the worker. */
type StopCause =
  | { readonly kind: "user" }
  | { readonly kind: "timeout"; readonly reason: EndReason }
  | { readonly kind: "budget"; readonly reason: EndReason };

const LIVE_USAGE_MS = 500;

const CTRL_C = "\x03";
const MAX_LINE = 64 * 1024 * 1024;

/**
 * One worker's agent in a pseudo-terminal: spawn, stream, settle, record. The transcript and events
 * are appended to the store as they come; `ended` resolves with the result once the agent is gone
 * and every process it started has been stopped.
 */
export class WorkerRun {
  readonly ended: Promise<WorkerResult>;
  pid = 0;
  threadId: string | undefined;
  /** Usage over every attempt so far, this one included. */
  usage: Usage;
  /** Set when this attempt failed in a way worth running again (model 5xx, no answer). */
  transient: string | undefined;
  /** The attempt changed files (a writer's retry would not start from a clean slate). */
  changedFiles = false;
  transcriptBytes: number;
  startedAt = Date.now();

  private terminal: pty.IPty | undefined;
  /** The agent's pid with its start time, so that a later process given the same pid is never signalled. */
  private root: ProcessId | undefined;
  private resolveEnded!: (result: WorkerResult) => void;
  private readonly events: AgentEvent[] = [];
  private readonly parser: OutputParser;
  private readonly redactor: Redactor;
  /** The environment's secret values: redacted from everything this run writes or returns. */
  private readonly secrets: string[];
  private pendingLine = "";
  private stopping: StopCause | undefined;
  private interrupted = false;
  /** The agent has ended: no watchdog or limit can stop it any more, only its leftovers remain. */
  private exited = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private liveUsage: LiveUsage | undefined;
  private turnUsage: Usage = ZERO_USAGE;
  /** The attempt's usage so far as the agent's own events report it mid-turn (`usage` events). */
  private eventUsage: Usage | undefined;
  /** A command the agent started has not finished: silence is then the command's, not the model's. */
  private commandRunning = false;
  private transcriptFd: number | undefined;
  private eventsFd: number | undefined;
  /** The first write to the store that failed; the run goes on, and its answer is still kept. */
  storeError: string | undefined;
  private launch: WorkerLaunch | undefined;
  private outsideScope: SweepReport | undefined;

  constructor(
    private readonly store: Store,
    readonly spec: WorkerSpec,
    private readonly backend: Backend,
    private readonly env: Record<string, string>,
    private readonly marker: string,
    private readonly hooks: RunHooks,
    transcriptBytes: number,
    private readonly graceMs: number,
    private readonly attempt: Attempt = { priorUsage: ZERO_USAGE },
  ) {
    this.transcriptBytes = transcriptBytes;
    this.usage = attempt.priorUsage;
    this.threadId = attempt.threadId;
    this.parser = backend.parser();
    this.secrets = secretsOf(env);
    this.redactor = new Redactor(this.secrets);
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
  }

  /** Starts the agent. Never throws: a failure to start ends the run as failed. */
  start(): void {
    this.startedAt = Date.now();
    try {
      this.transcriptFd = this.store.openLog(this.spec.id, "transcript.log");
      this.eventsFd = this.store.openLog(this.spec.id, "events.jsonl");
      this.launch = launchWorker(this.store, this.spec, this.backend, this.env, this.attempt);
      const { file, args, env } = this.launch;
      this.terminal = pty.spawn(file, [...args], {
        name: "xterm-256color",
        cols: 200,
        rows: 50,
        cwd: this.spec.cwd,
        env,
      });
    } catch (error) {
      this.finish(
        "failed",
        { kind: "spawn_failed", message: String((error as Error).message ?? error) },
        undefined,
      );
      return;
    }
    this.pid = this.terminal.pid;
    this.root = identify(this.pid);
    this.terminal.onData((data) => this.onData(data));
    this.terminal.onExit(({ exitCode, signal }) => void this.onExit(exitCode, signal));
    const { timeoutSeconds } = this.spec;
    this.timers.push(
      setTimeout(
        () =>
          void this.stopFor({
            kind: "timeout",
            reason: { kind: "timeout", limit: "wall", seconds: timeoutSeconds },
          }),
        timeoutSeconds * 1000,
      ),
    );
    this.touch();
    if (this.attempt.resumeThreadId) this.followUsage(this.attempt.resumeThreadId);
  }

  /** Restarts the idle watchdog: any output or event counts as a sign of life. */
  private touch(): void {
    if (this.stopping || this.exited) return;
    clearTimeout(this.idleTimer);
    const seconds = this.spec.idleTimeoutSeconds;
    this.idleTimer = setTimeout(() => {
      if (!this.commandRunning)
        this.transient = `no output or events for ${seconds}s while waiting on the model`;
      void this.stopFor({ kind: "timeout", reason: { kind: "timeout", limit: "idle", seconds } });
    }, seconds * 1000);
  }

  /** Reads live usage while the turn runs, where the backend offers it. */
  private followUsage(threadId: string): void {
    if (this.liveUsage || !this.backend.liveUsage) return;
    this.liveUsage = this.backend.liveUsage(threadId, this.env);
    const timer = setInterval(() => this.refreshUsage(), LIVE_USAGE_MS);
    this.timers.push(timer);
  }

  private refreshUsage(): void {
    const live = this.liveUsage?.read() ?? this.eventUsage;
    const attempt = live && totalTokens(live) > totalTokens(this.turnUsage) ? live : this.turnUsage;
    const next = addUsage(this.attempt.priorUsage, attempt);
    if (totalTokens(next) === totalTokens(this.usage)) return;
    this.usage = next;
    this.hooks.progress();
  }

  /** Baton ends the worker because a limit was crossed; the reason goes into its result. */
  stopFor(cause: Exclude<StopCause, { kind: "user" }>): Promise<WorkerResult> {
    return this.halt(cause, this.graceMs);
  }

  /** Types `text` into the worker's terminal. */
  write(text: string): void {
    this.terminal?.write(text);
  }

  /** Ctrl+C. If the agent then ends without success, the worker counts as canceled, not failed. */
  interrupt(): void {
    this.interrupted = true;
    this.terminal?.write(CTRL_C);
  }

  /** Ctrl+C, then SIGTERM after the grace period, then SIGKILL after another; resolves when ended. */
  stop(graceMs = this.graceMs): Promise<WorkerResult> {
    return this.halt({ kind: "user" }, graceMs);
  }

  private halt(cause: StopCause, graceMs: number): Promise<WorkerResult> {
    if (this.exited) return this.ended; // it ended by itself: how it ended stands
    if (this.stopping && this.terminal) {
      // Stopping already: a second, shorter stop (a second Ctrl+C) brings the signals forward.
      this.timers.push(
        setTimeout(() => signalAll(this.processes(), "SIGTERM"), graceMs),
        setTimeout(() => signalAll(this.processes(), "SIGKILL"), graceMs * 2),
      );
    } else if (this.terminal) {
      this.stopping = cause;
      clearTimeout(this.idleTimer);
      this.interrupt();
      this.timers.push(
        setTimeout(() => signalAll(this.processes(), "SIGTERM"), graceMs),
        setTimeout(() => signalAll(this.processes(), "SIGKILL"), graceMs * 2),
      );
    }
    return this.ended;
  }

  private processes(): ProcessId[] {
    return workerProcesses(this.root, this.marker);
  }

  /** Writes a line of Baton's own into the transcript (e.g. a retry separator). */
  note(text: string): void {
    this.appendTranscript(`\r\n[baton] ${text}\r\n`);
  }

  private onData(data: string): void {
    this.touch();
    this.appendTranscript(this.redactor.push(data));
    this.parse(data);
  }

  private appendTranscript(text: string): void {
    if (!text || this.transcriptFd === undefined) return;
    const bytes = Buffer.from(text, "utf8");
    try {
      // A nearly full disk takes part of a write: count what reached the file, so cursors stay true.
      this.transcriptBytes += writeSync(this.transcriptFd, bytes);
    } catch (error) {
      this.storeError ??= `its transcript is incomplete: ${this.storeProblem(error, "transcript.log")}`;
    }
    this.hooks.output();
  }

  private parse(data: string): void {
    const text = this.pendingLine + data;
    const lines = text.split("\n");
    this.pendingLine = lines.pop() ?? "";
    if (this.pendingLine.length > MAX_LINE) this.pendingLine = "";
    for (const line of lines) this.onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
  }

  private onLine(line: string): void {
    for (const parsed of this.parser.line(line)) {
      // Redacted before it is kept, so that the events file and the answer agree.
      const event =
        this.secrets.length > 0 ? (JSON.parse(redactJson(parsed, this.secrets)) as AgentEvent) : parsed;
      this.events.push(event);
      this.appendEvent(event);
      if (event.type === "thread") {
        this.threadId = event.threadId;
        this.followUsage(event.threadId);
        this.hooks.progress();
      } else if (event.type === "turn_completed") {
        this.turnUsage = addUsage(this.turnUsage, event.usage);
        this.refreshUsage();
      } else if (event.type === "usage") {
        this.eventUsage = event.usage;
        this.refreshUsage();
      } else if (event.type === "command") {
        this.commandRunning = event.status === "in_progress";
      } else if (event.type === "file_change") {
        this.changedFiles = true;
      }
    }
  }

  private appendEvent(event: AgentEvent): void {
    if (this.eventsFd === undefined) return;
    try {
      writeSync(this.eventsFd, `${JSON.stringify({ at: new Date().toISOString(), ...event })}\n`);
    } catch (error) {
      this.storeError ??= `its events are incomplete: ${this.storeProblem(error, "events.jsonl")}`;
    }
  }

  private storeProblem(error: unknown, name: "transcript.log" | "events.jsonl"): string {
    return storeError(this.store.home, error, this.store.file(this.spec.id, name)).message;
  }

  private async onExit(exitCode: number, signal: number | undefined): Promise<void> {
    this.exited = true;
    clearTimeout(this.idleTimer);
    // Whatever the agent left behind in its session goes with it: SIGTERM first, so that a tool it
    // started can clean up, then SIGKILL for what is still there. (One scan serves every worker that
    // ended meanwhile.)
    const leftovers = await leftoversOf(this.root, this.marker);
    if (leftovers.length > 0) await terminate(leftovers, LEFTOVER_GRACE_MS);
    this.appendTranscript(this.redactor.flush());
    if (this.pendingLine) this.onLine(this.pendingLine.replace(/\r$/, ""));
    this.pendingLine = "";
    this.refreshUsage();
    const outcome = this.backend.outcome({
      events: this.events,
      exitCode,
      lastMessageFile: this.launch?.lastMessageFile,
    });
    if (this.launch) {
      const cleared = clearAfter(this.store, this.spec, this.launch);
      this.outsideScope = cleared.outsideScope;
      if (cleared.problem) this.storeError ??= cleared.problem;
    }
    let state: FinalState;
    let reason: EndReason | undefined;
    if (this.stopping?.kind === "timeout") {
      state = "timed_out";
      reason = this.stopping.reason;
    } else if (this.stopping?.kind === "budget") {
      state = "over_budget";
      reason = this.stopping.reason;
    } else if (this.stopping?.kind === "user") {
      state = "canceled";
      reason = { kind: "stopped", by: "user", via: "stop" };
    } else if (outcome.ok && !signal) {
      state = "succeeded";
    } else if (this.interrupted) {
      state = "canceled";
      reason = { kind: "stopped", by: "user", via: "interrupt" };
    } else {
      state = "failed";
      this.transient = outcome.transient;
      reason = signal
        ? { kind: "signal", signal }
        : { kind: "exit", exitCode, ...(outcome.error ? { message: outcome.error } : {}) };
    }
    this.finish(state, reason, outcome, exitCode);
  }

  private finish(
    state: FinalState,
    reason: EndReason | undefined,
    outcome: ReturnType<Backend["outcome"]> | undefined,
    exitCode?: number,
  ): void {
    for (const timer of this.timers) clearTimeout(timer);
    clearTimeout(this.idleTimer);
    // Only a failure of the agent's own making, or silence while it waited on the model, is retried.
    const idle = reason?.kind === "timeout" && reason.limit === "idle";
    if (state !== "failed" && !idle) this.transient = undefined;
    for (const fd of [this.transcriptFd, this.eventsFd]) {
      try {
        if (fd !== undefined) closeSync(fd);
      } catch {} // a close that fails loses nothing: every write was already made, or reported
    }
    this.transcriptFd = this.eventsFd = undefined;
    this.resolveEnded({
      id: this.spec.id,
      label: this.spec.label,
      role: this.spec.role,
      state,
      answer: redact(outcome?.answer ?? "", this.secrets),
      answerSource: outcome?.answerSource ?? "none",
      answerMismatch: outcome?.answerMismatch ?? false,
      exitCode,
      durationMs: Date.now() - this.startedAt,
      usage: this.usage,
      retries: 0,
      resumes: 0,
      threadId: this.threadId,
      reason,
      endedAt: new Date().toISOString(),
      confinement: this.spec.confinement,
      ...(this.outsideScope ? { outsideScope: this.outsideScope } : {}),
    });
  }
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningOutputTokens: a.reasoningOutputTokens + b.reasoningOutputTokens,
  };
}
