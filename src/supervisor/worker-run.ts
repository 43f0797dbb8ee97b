import { closeSync, openSync, writeSync } from "node:fs";
import pty from "@lydell/node-pty";
import type { AgentEvent, Backend, OutputParser } from "../backend/backend.js";
import { Redactor, secretsOf } from "../store/redact.js";
import type { Store } from "../store/store.js";
import type { FinalState } from "../worker/state.js";
import type { EndReason, Usage, WorkerResult, WorkerSpec } from "../worker/types.js";
import { ZERO_USAGE } from "../worker/types.js";
import { signalAll, workerProcesses } from "./processes.js";

export interface RunHooks {
  /** New bytes reached the transcript. */
  output(): void;
  /** The thread id or the usage changed. */
  progress(): void;
}

type StopKind = "user" | "timeout";

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
  usage: Usage = ZERO_USAGE;
  transcriptBytes: number;
  startedAt = Date.now();

  private terminal: pty.IPty | undefined;
  private resolveEnded!: (result: WorkerResult) => void;
  private readonly events: AgentEvent[] = [];
  private readonly parser: OutputParser;
  private readonly redactor: Redactor;
  private pendingLine = "";
  private stopping: StopKind | undefined;
  private interrupted = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private transcriptFd: number | undefined;
  private eventsFd: number | undefined;
  storeError: string | undefined;

  constructor(
    private readonly store: Store,
    readonly spec: WorkerSpec,
    private readonly backend: Backend,
    private readonly env: Record<string, string>,
    private readonly marker: string,
    private readonly hooks: RunHooks,
    transcriptBytes: number,
    private readonly graceMs: number,
  ) {
    this.transcriptBytes = transcriptBytes;
    this.parser = backend.parser();
    this.redactor = new Redactor(secretsOf(env));
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
  }

  /** Starts the agent. Never throws: a failure to start ends the run as failed. */
  start(): void {
    this.startedAt = Date.now();
    try {
      this.transcriptFd = openSync(this.store.file(this.spec.id, "transcript.log"), "a", 0o600);
      this.eventsFd = openSync(this.store.file(this.spec.id, "events.jsonl"), "a", 0o600);
      const plan = this.backend.launch(this.spec, {
        promptFile: this.store.file(this.spec.id, "prompt.txt"),
        lastMessageFile: this.store.file(this.spec.id, "last-message.txt"),
        outputSchemaFile: this.spec.outputSchema
          ? this.store.file(this.spec.id, "output-schema.json")
          : undefined,
      });
      this.terminal = pty.spawn(plan.file, [...plan.args], {
        name: "xterm-256color",
        cols: 200,
        rows: 50,
        cwd: this.spec.cwd,
        env: { ...this.env, ...plan.env },
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
    this.terminal.onData((data) => this.onData(data));
    this.terminal.onExit(({ exitCode, signal }) => this.onExit(exitCode, signal));
    this.timers.push(setTimeout(() => void this.stop("timeout"), this.spec.timeoutSeconds * 1000));
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
  stop(kind: StopKind, graceMs = this.graceMs): Promise<WorkerResult> {
    if (!this.stopping && this.terminal) {
      this.stopping = kind;
      this.interrupt();
      this.timers.push(
        setTimeout(() => signalAll(this.processes(), "SIGTERM"), graceMs),
        setTimeout(() => signalAll(this.processes(), "SIGKILL"), graceMs * 2),
      );
    }
    return this.ended;
  }

  private processes(): number[] {
    return this.pid > 0 ? [this.pid, ...workerProcesses(this.pid, this.marker)] : [];
  }

  private onData(data: string): void {
    this.appendTranscript(this.redactor.push(data));
    this.parse(data);
  }

  private appendTranscript(text: string): void {
    if (!text || this.transcriptFd === undefined) return;
    const bytes = Buffer.from(text, "utf8");
    try {
      writeSync(this.transcriptFd, bytes);
      this.transcriptBytes += bytes.length;
    } catch (error) {
      this.storeError = `transcript write failed: ${(error as Error).message}`;
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
    for (const event of this.parser.line(line)) {
      this.events.push(event);
      this.appendEvent(event);
      if (event.type === "thread") {
        this.threadId = event.threadId;
        this.hooks.progress();
      } else if (event.type === "turn_completed") {
        this.usage = addUsage(this.usage, event.usage);
        this.hooks.progress();
      }
    }
  }

  private appendEvent(event: AgentEvent): void {
    if (this.eventsFd === undefined) return;
    try {
      writeSync(this.eventsFd, `${JSON.stringify({ at: new Date().toISOString(), ...event })}\n`);
    } catch (error) {
      this.storeError = `event write failed: ${(error as Error).message}`;
    }
  }

  private onExit(exitCode: number, signal: number | undefined): void {
    this.appendTranscript(this.redactor.flush());
    if (this.pendingLine) this.onLine(this.pendingLine.replace(/\r$/, ""));
    this.pendingLine = "";
    // Whatever the agent left behind in its session goes with it.
    signalAll(workerProcesses(this.pid, this.marker), "SIGKILL");
    const outcome = this.backend.outcome({
      events: this.events,
      exitCode,
      lastMessageFile: this.store.file(this.spec.id, "last-message.txt"),
    });
    let state: FinalState;
    let reason: EndReason | undefined;
    if (this.stopping === "timeout") {
      state = "timed_out";
      reason = { kind: "timeout", limit: "wall", seconds: this.spec.timeoutSeconds };
    } else if (this.stopping === "user") {
      state = "canceled";
      reason = { kind: "stopped", by: "user", via: "stop" };
    } else if (outcome.ok && !signal) {
      state = "succeeded";
    } else if (this.interrupted) {
      state = "canceled";
      reason = { kind: "stopped", by: "user", via: "interrupt" };
    } else {
      state = "failed";
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
    for (const fd of [this.transcriptFd, this.eventsFd]) if (fd !== undefined) closeSync(fd);
    this.transcriptFd = this.eventsFd = undefined;
    this.resolveEnded({
      id: this.spec.id,
      label: this.spec.label,
      role: this.spec.role,
      state,
      answer: outcome?.answer ?? "",
      answerSource: outcome?.answerSource ?? "none",
      answerMismatch: outcome?.answerMismatch ?? false,
      exitCode,
      durationMs: Date.now() - this.startedAt,
      usage: this.usage,
      threadId: this.threadId,
      reason,
      endedAt: new Date().toISOString(),
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
