import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import { finished } from "node:stream/promises";
import type { Conversation, Converse } from "../backend/pipes.js";
import type { AgentTerminal } from "./agent-terminal.js";
import { asUser } from "./user-umask.js";

/**
 * How long an agent gets to exit by itself once its conversation is over and its stdin closed (an ACP
 * agent is a server: it ends when its client hangs up), before Baton sends its process group SIGTERM.
 */
const EXIT_AFTER_DONE_MS = 3000;
/** How long the agent's stdout may stay open after it exited (a tool it started may hold it). */
const DRAIN_MS = 500;
const CTRL_C = "\x03";

/**
 * An agent on pipes, seen as a terminal by the rest of the worker's run: the backend's conversation
 * speaks to it on stdin and stdout and records what is said as transcript lines, which come out of
 * `onData` whole (so the backend's parser reads them as it reads a terminal's); the agent's stderr
 * comes out the same way, each line marked `stderr: ` so that it can never pass for a message. Ctrl+C
 * (what Baton's interrupt and the first step of a stop type) asks the conversation to stop. Once the
 * conversation is over the agent's stdin is closed, and its process group gets SIGTERM if it is still
 * there a few seconds later: then it ended the way Baton wanted, and exits 0 whatever the signal did.
 */
export class PipeTerminal implements AgentTerminal {
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly conversation: Conversation;
  private readonly dataListeners: ((data: string) => void)[] = [];
  private readonly exitListeners: ((exit: { exitCode: number; signal?: number }) => void)[] = [];
  /** Lines recorded before anyone listened. */
  private early: string[] = [];
  private stderrLine = "";
  private done = false;
  private endedByBaton = false;
  private exitTimer: NodeJS.Timeout | undefined;

  constructor(
    file: string,
    args: readonly string[],
    options: { readonly cwd: string; readonly env: Record<string, string> },
    converse: Converse,
  ) {
    // A session of its own (setsid), as a terminal's agent has: what it starts is found and stopped
    // by session and group as well as by Baton's marker.
    this.child = asUser(() =>
      spawn(file, [...args], {
        cwd: options.cwd,
        env: options.env,
        stdio: ["pipe", "pipe", "pipe"],
        detached: true,
      }),
    );
    const { pid, stdin, stdout, stderr } = this.child;
    if (pid === undefined || !stdin || !stdout || !stderr) {
      this.child.once("error", () => {});
      throw new Error(`could not start ${file}`);
    }
    this.pid = pid;
    stdin.on("error", () => {}); // the agent may exit before it reads what is left: EPIPE says nothing new
    stderr.setEncoding("utf8");
    stderr.on("data", (chunk: string) => this.onStderr(chunk));
    this.child.on("exit", (code, signal) => this.onChildExit(code, signal));
    this.conversation = converse({ stdin, stdout, record: (line) => this.emit(`${line}\n`) });
    void this.conversation.done.then(() => this.hangUp());
  }

  onData(listener: (data: string) => void): void {
    this.dataListeners.push(listener);
    const early = this.early;
    this.early = [];
    for (const data of early) listener(data);
  }

  onExit(listener: (exit: { exitCode: number; signal?: number }) => void): void {
    this.exitListeners.push(listener);
  }

  /** Only Ctrl+C means something to an agent on pipes: the conversation's interrupt. */
  write(text: string): void {
    if (text.includes(CTRL_C)) this.conversation.interrupt();
  }

  private emit(data: string): void {
    if (this.dataListeners.length === 0) this.early.push(data);
    for (const listener of this.dataListeners) listener(data);
  }

  private onStderr(chunk: string): void {
    const lines = (this.stderrLine + chunk).split("\n");
    this.stderrLine = lines.pop() ?? "";
    for (const line of lines) this.emit(`stderr: ${line.replace(/\r$/, "")}\n`);
  }

  /** The conversation is over: the agent's stdin closes, and it has a few seconds to exit. */
  private hangUp(): void {
    this.done = true;
    this.child.stdin?.end();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.exitTimer = setTimeout(() => {
      this.endedByBaton = true;
      try {
        process.kill(-this.pid, "SIGTERM");
      } catch {}
    }, EXIT_AFTER_DONE_MS);
    this.exitTimer.unref();
  }

  private onChildExit(code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(this.exitTimer);
    const stdout = this.child.stdout;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(drain);
      if (this.stderrLine) this.emit(`stderr: ${this.stderrLine}\n`);
      this.stderrLine = "";
      const exit =
        this.done && this.endedByBaton
          ? { exitCode: 0 }
          : signal
            ? { exitCode: 128 + (constants.signals[signal] ?? 0), signal: constants.signals[signal] }
            : { exitCode: code ?? 0 };
      for (const listener of this.exitListeners) listener(exit);
    };
    // What the agent wrote last is still in the pipe: let the conversation read it to its end, but
    // not wait on a tool of the agent's that holds stdout open (Baton stops it next).
    const drain = setTimeout(settle, DRAIN_MS);
    const ended = stdout ? finished(stdout).catch(() => {}) : undefined;
    void Promise.all([ended, this.conversation.done]).then(settle);
  }
}
