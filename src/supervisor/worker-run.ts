import type { Backend } from "../backend/backend.js";
import type { SweepReport } from "../confine/index.js";
import { Redactor, secretsOf } from "../store/redact.js";
import type { Store } from "../store/store.js";
import type { FinalState } from "../worker/state.js";
import type { EndReason, Usage, WorkerResult, WorkerSpec } from "../worker/types.js";
import { ZERO_USAGE } from "../worker/types.js";
import { type AgentTerminal, startAgent } from "./agent-terminal.js";
import { type Clock, realClock } from "./clock.js";
import { AgentLeftovers } from "./leftovers.js";
import type { ProcessId } from "./proc-stat.js";
import { agentStarted, signalAll, workerProcesses } from "./processes.js";
import { EXIT_AFTER_ANSWER_GRACE_MS, EXIT_AFTER_ANSWER_SECONDS, endOf, type StopCause } from "./run-end.js";
import { RunEvents } from "./run-events.js";
import { RunLogs } from "./run-logs.js";
import { attemptResult } from "./run-result.js";
import { type Attempt, RunSpend } from "./run-spend.js";
import { Watchdogs } from "./watchdogs.js";
import { clearAfter, launchWorker, releaseLaunch, type WorkerLaunch } from "./worker-launch.js";

const HEAD_BYTES = 2048;

export interface RunHooks {
  /** New bytes reached the transcript. */
  output(): void;
  /** The thread id or the usage changed. */
  progress(): void;
}

const CTRL_C = "\x03";

/**
 * One worker's agent in a pseudo-terminal: spawn, stream, settle, record. The transcript and events
 * are appended to the store as they come; `ended` resolves with the result once the agent is gone
 * and every process it started has been stopped. Its watchdogs and a stop's grace period run on the
 * supervisor's clock.
 */
export class WorkerRun {
  readonly ended: Promise<WorkerResult>;
  pid = 0;
  /** Set when this attempt failed in a way worth running again (model 5xx, no answer). */
  transient: string | undefined;
  startedAt: number;

  private terminal: AgentTerminal | undefined;
  /** The agent's pid with its start time, so that a later process given the same pid is never signalled. */
  private root: ProcessId | undefined;
  private leftovers: AgentLeftovers | undefined;
  private resolveEnded!: (result: WorkerResult) => void;
  private readonly events: RunEvents;
  private readonly redactor: Redactor;
  /** The environment's secret values: redacted from everything this run writes or returns. */
  private readonly secrets: string[];
  private readonly logs: RunLogs;
  private readonly watchdogs: Watchdogs;
  /** Its tokens, model and dollars as they grow. */
  readonly spend: RunSpend;
  private stopping: StopCause | undefined;
  private interrupted = false;
  /** A stop that came while the agent was starting: made once it runs. */
  private pendingStop: (() => void) | undefined;
  /** The agent has ended: no watchdog or limit can stop it any more, only its leftovers remain. */
  private exited = false;
  /** What the terminal showed first: where the sandbox says why it could not start. */
  private head = "";
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
    private readonly clock: Clock = realClock,
  ) {
    this.startedAt = clock.now();
    this.logs = new RunLogs(store, spec.id, transcriptBytes);
    this.watchdogs = new Watchdogs(clock);
    this.spend = new RunSpend(attempt, backend, env, () => hooks.progress());
    this.secrets = secretsOf(env);
    this.events = new RunEvents(
      backend.parser(),
      { logs: this.logs, spend: this.spend, progress: () => hooks.progress() },
      {
        secrets: this.secrets,
        endsAfterTurn: backend.endsAfterTurn === true,
        threadId: attempt.threadId,
        clock,
      },
    );
    this.redactor = new Redactor(this.secrets);
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
  }

  /** The agent's thread, once it has said which (or the one this attempt continues). */
  get threadId(): string | undefined {
    return this.events.threadId;
  }

  /** The attempt changed files (a writer's retry would not start from a clean slate). */
  get changedFiles(): boolean {
    return this.events.changedFiles;
  }

  /** The transcript's size, over every attempt so far. */
  get transcriptBytes(): number {
    return this.logs.transcriptBytes;
  }

  /** Usage over every attempt so far, this one included. */
  get usage(): Usage {
    return this.spend.usage;
  }

  /** The agent's process, once started. */
  get agent(): ProcessId | undefined {
    return this.root;
  }

  /** The first write to the store that failed; the run goes on, and its answer is still kept. */
  get storeError(): string | undefined {
    return this.logs.storeError;
  }

  /** Starts the agent; resolves once it runs. Never throws: a failure to start ends the run as failed. */
  async start(): Promise<void> {
    this.startedAt = this.clock.now();
    try {
      this.logs.open();
      this.launch = launchWorker(this.store, this.spec, this.backend, this.env, this.attempt);
      this.terminal = await startAgent(this.backend.transport, this.launch, this.spec.cwd);
    } catch (error) {
      if (this.launch) releaseLaunch(this.launch);
      this.finish(
        "failed",
        { kind: "spawn_failed", message: String((error as Error).message ?? error) },
        undefined,
      );
      return;
    }
    this.pid = this.terminal.pid;
    this.root = agentStarted(this.pid);
    this.leftovers = new AgentLeftovers(this.root, this.marker, this.launch.sandbox !== undefined);
    this.terminal.onData((data) => this.onData(data));
    this.terminal.onExit(({ exitCode, signal, lost }) => void this.onExit(exitCode, signal, lost));
    const seconds = this.spec.timeoutSeconds;
    this.watchdogs.wall(seconds, () => {
      void this.stopFor({ kind: "timeout", reason: { kind: "timeout", limit: "wall", seconds } });
    });
    this.touch();
    if (this.attempt.resumeThreadId) this.spend.follow(this.attempt.resumeThreadId);
    this.pendingStop?.();
  }

  /**
   * Restarts the idle watchdog: any output or event counts as a sign of life. Once the agent has
   * answered, silence means it failed to end: it is stopped sooner, and its answer stands.
   */
  private touch(): void {
    if (this.stopping || this.exited) return;
    if (this.events.answered) {
      const seconds = Math.min(this.spec.idleTimeoutSeconds, EXIT_AFTER_ANSWER_SECONDS);
      this.watchdogs.idle(seconds, () => {
        this.note(`the agent answered, then neither ended nor printed anything for ${seconds}s: stopped`);
        void this.halt({ kind: "answered", seconds }, Math.min(this.graceMs, EXIT_AFTER_ANSWER_GRACE_MS));
      });
      return;
    }
    const seconds = this.spec.idleTimeoutSeconds;
    this.watchdogs.idle(seconds, () => {
      if (!this.events.commandRunning)
        this.transient = `no output or events for ${seconds}s while waiting on the model`;
      void this.stopFor({ kind: "timeout", reason: { kind: "timeout", limit: "idle", seconds } });
    });
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
    if (!this.terminal) {
      // Still starting: the stop goes to the agent once it runs (if it never does, it has ended).
      this.pendingStop ??= () => void this.halt(cause, graceMs);
      return this.ended;
    }
    // Stopping already: a second, shorter stop (a second Ctrl+C) only brings the signals forward.
    if (!this.stopping) {
      this.stopping = cause;
      this.watchdogs.quiet();
      this.interrupt();
    }
    this.watchdogs.escalate(graceMs, (signal) => signalAll(this.processes(), signal));
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
    if (this.head.length < HEAD_BYTES) this.head += data.slice(0, HEAD_BYTES - this.head.length);
    this.appendTranscript(this.redactor.push(data));
    this.events.push(data);
    this.leftovers?.alive();
    this.touch();
  }

  private appendTranscript(text: string): void {
    if (text && this.logs.transcript(text)) this.hooks.output();
  }

  private async onExit(exitCode: number, signal: number | undefined, lost?: string): Promise<void> {
    this.exited = true;
    if (lost) this.note(lost); // its exit code says nothing then: it counts as a failure
    this.watchdogs.quiet();
    await this.leftovers?.stop(); // what the agent left running goes with it
    this.appendTranscript(this.redactor.flush());
    this.events.end();
    this.spend.refresh();
    // Stopped by Baton after its answer: the exit is Baton's doing; the agent's events decide.
    const answered = this.stopping?.kind === "answered";
    if (lost) exitCode = 1;
    const outcome = this.backend.outcome({
      events: this.events.all,
      exitCode: answered ? 0 : exitCode,
      lastMessageFile: this.launch?.lastMessageFile,
    });
    if (this.launch) {
      const cleared = await clearAfter(this.store, this.spec, this.launch);
      this.outsideScope = cleared.outsideScope;
      if (cleared.problem) this.logs.problem(cleared.problem);
    }
    const { state, reason } = endOf(this.stopping, outcome, { exitCode, signal }, this.interrupted);
    if (state === "failed") this.transient = outcome.transient ?? this.launch?.sandbox?.coverGone(this.head);
    this.finish(state, reason, outcome, answered && state === "succeeded" ? 0 : exitCode);
  }

  private finish(
    state: FinalState,
    reason: EndReason | undefined,
    outcome: ReturnType<Backend["outcome"]> | undefined,
    exitCode?: number,
  ): void {
    this.watchdogs.clear();
    this.spend.stop();
    // Only a failure of the agent's own making, or silence while it waited on the model, is retried.
    const idle = reason?.kind === "timeout" && reason.limit === "idle";
    if (state !== "failed" && !idle) this.transient = undefined;
    this.logs.close();
    this.resolveEnded(
      attemptResult(
        this.spec,
        { state, reason, outcome, exitCode },
        {
          secrets: this.secrets,
          startedAt: this.startedAt,
          clock: this.clock,
          usage: this.usage,
          threadId: this.threadId,
          spent: this.spend.recorded(),
          outsideScope: this.outsideScope,
        },
      ),
    );
  }
}
