// How the supervisor starts an agent in a pseudo-terminal without forking itself: the native
// launcher's `--serve` mode (native/serve.h), started once, forks for it. The supervisor opens the
// terminal and keeps its master end, so what the agent prints and what is typed to it go as they did
// when node-pty forked; only the fork moves to a process of a few hundred KB, where a fork of the
// supervisor (100 MB) costs the machine about 3.5 ms of CPU a worker.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { createRequire } from "node:module";
import { ReadStream } from "node:tty";
import { appendSupervisorLog } from "../store/supervisor-log.js";
import type { AgentTerminal } from "./agent-terminal.js";
import { drainAtDestroy } from "./terminal-drain.js";

interface NativePty {
  open(cols: number, rows: number): { master: number; slave: number; pty: string };
}

/** node-pty's native part: its `open` makes a terminal pair without a process. */
let native: NativePty | undefined;
const nativePty = (): NativePty =>
  (native ??= createRequire(import.meta.url)("@lydell/node-pty/requireBinary.js").requireBinary(
    "pty.node",
  ) as NativePty);

type Exit = { exitCode: number; signal?: number };

/** How often an agent whose spawner has gone is looked for (no process is left to be told of its end). */
const ORPHAN_CHECK_MS = 1000;

/** How long the spawner may take to answer a start before it is taken for wedged. */
const REPLY_TIMEOUT_MS = 10_000;

/** node-pty's wait, after an agent's exit, for the end of what it printed (see drainAtDestroy). */
const LAST_OUTPUT_MS = 200;

/** The spawner ended before it could answer: the agent was not started. */
export class SpawnerGone extends Error {}

/** One launcher's spawner: started at its first agent, again if it has ended. */
export class Spawner {
  private static readonly byLauncher = new Map<string, Spawner>();
  private readonly child: ChildProcess;
  private readonly starting = new Map<string, (outcome: number | Error) => void>();
  private readonly running = new Map<number, ServedTerminal>();
  private requests = 0;
  private started = 0;
  private replies = "";
  private gone = false;

  /**
   * The spawner of `launcher` (the store's pinned copy of the native launcher); undefined once one
   * has ended without starting anything (it cannot work here: agents then start through node-pty).
   */
  static of(launcher: string, home: string): Spawner | undefined {
    const known = Spawner.byLauncher.get(launcher);
    if (known && !known.gone) return known;
    if (known && known.started === 0) return undefined;
    const made = new Spawner(launcher, home);
    Spawner.byLauncher.set(launcher, made);
    return made;
  }

  private constructor(
    launcher: string,
    private readonly home: string,
  ) {
    // A session of its own: a Ctrl+C or hangup meant for a supervisor in the foreground (which it
    // handles) must not end the spawner and, with it, the exit codes of every running agent.
    this.child = spawn(launcher, ["--serve"], { stdio: ["pipe", "pipe", "inherit"], detached: true });
    this.child.stdout?.setEncoding("utf8").on("data", (text: string) => this.read(text));
    this.child.stdin?.on("error", () => {}); // its end is seen as the process's
    this.child.on("error", (error) => this.end(error));
    // Once what it wrote has been read: a `started` or `exit` line just before its end still counts.
    this.child.on("close", (code, signal) => this.end(new Error(`it ended (${signal ?? `exit ${code}`})`)));
    this.busy();
  }

  /** It keeps its process alive only while it has agents to start or to wait for. */
  private busy(): void {
    const wanted = this.starting.size + this.running.size > 0;
    for (const handle of [this.child, this.child.stdin, this.child.stdout] as ({
      ref(): void;
      unref(): void;
    } | null)[])
      if (wanted) handle?.ref();
      else handle?.unref();
  }

  /** Starts `file args` (the launcher and its arguments) in a new terminal, in `cwd`. */
  start(
    command: { readonly file: string; readonly args: readonly string[] },
    env: Record<string, string>,
    cwd: string,
  ): Promise<AgentTerminal> {
    const argv = [command.file, ...command.args];
    const vars = Object.entries(env).map(([name, value]) => `${name}=${value}`);
    const texts = [cwd, ...argv, ...vars];
    if (texts.some((text) => text.includes("\0")))
      throw new Error("the agent's command line or environment holds a NUL byte");
    // The spawner's own bounds (native/serve.h): far above what the kernel lets a program start with.
    if (texts.length > 60_000 || texts.reduce((sum, text) => sum + Buffer.byteLength(text) + 1, 0) > 15 << 20)
      throw new Error("the agent's command line and environment are too large to start it");
    if (this.gone) throw new SpawnerGone("Baton's spawner has ended");
    const pair = nativePty().open(200, 50);
    let held: number;
    try {
      // node-pty's `open` leaves both ends to be inherited by every program the supervisor starts
      // (the master end still is, as node-pty's fork leaves it); this second slave end is not (Node
      // opens with O_CLOEXEC). Held until the agent has ended, so that the terminal reads as closed
      // only once the agent and all it left behind have let it go, never before the agent took it.
      held = openSync(pair.pty, constants.O_RDWR | constants.O_NOCTTY);
    } catch (error) {
      closeSync(pair.master);
      throw error;
    } finally {
      closeSync(pair.slave);
    }
    const id = String(++this.requests);
    const fields = ["spawn", id, pair.pty, cwd, String(argv.length), ...argv, String(vars.length), ...vars];
    return new Promise((resolve, reject) => {
      // A spawner that does not answer (stopped, wedged) is ended: the start fails, and goes to a new one.
      const late = setTimeout(() => this.child.kill("SIGKILL"), REPLY_TIMEOUT_MS);
      this.starting.set(id, (pid) => {
        clearTimeout(late);
        if (pid instanceof Error) {
          closeSync(held);
          closeSync(pair.master);
          return reject(pid);
        }
        this.started += 1;
        const terminal = new ServedTerminal(pid, pair.master, held);
        this.running.set(pid, terminal);
        resolve(terminal);
      });
      this.child.stdin?.write(`${fields.join("\0")}\0`);
      this.busy();
    });
  }

  private read(text: string): void {
    this.replies += text;
    let newline = this.replies.indexOf("\n");
    while (newline >= 0) {
      const [kind, a = "", b = "", c = ""] = this.replies.slice(0, newline).split(" ");
      this.replies = this.replies.slice(newline + 1);
      newline = this.replies.indexOf("\n");
      if (kind === "started" || kind === "failed") {
        const resolve = this.starting.get(a);
        this.starting.delete(a);
        resolve?.(kind === "started" ? Number(b) : new Error(`cannot start the agent (errno ${b})`));
      } else if (kind === "exit") {
        const pid = Number(a);
        const signal = Number(c);
        this.running.get(pid)?.exited({ exitCode: Number(b), ...(signal ? { signal } : {}) });
        this.running.delete(pid);
      }
    }
    this.busy();
  }

  /**
   * The spawner has ended (killed, or after a request it could not read: it never ends by itself
   * while the supervisor lives and sends what it can read). Starts not
   * yet answered fail; agents already running are no longer anyone's children Baton can wait for,
   * so each ends, as failed with no exit code of its own, once its terminal closes.
   */
  private end(why: Error): void {
    if (this.gone) return;
    this.gone = true;
    const reason = `Baton's spawner has ended: ${why.message}`;
    for (const resolve of this.starting.values()) resolve(new SpawnerGone(reason));
    this.starting.clear();
    const running = this.running.size;
    appendSupervisorLog(
      this.home,
      this.started === 0
        ? `${reason} before it started any agent: agents start through node-pty instead`
        : `${reason}; ${running} agents it started end without their exit codes; the next agent starts a new one`,
    );
    for (const terminal of this.running.values()) terminal.orphaned();
    this.running.clear();
  }
}

/** An agent's terminal, as node-pty's own: its output until it closes, then the exit. */
class ServedTerminal implements AgentTerminal {
  private readonly socket: ReadStream;
  private exit: Exit | undefined;
  private closed = false;
  private readonly exitListeners: ((exit: Exit) => void)[] = [];

  constructor(
    readonly pid: number,
    fd: number,
    private held: number | undefined,
  ) {
    this.socket = new ReadStream(fd);
    this.socket.setEncoding("utf8");
    drainAtDestroy(this.socket, fd);
    // EIO: every process that held the terminal has let it go.
    this.socket.on("error", () => this.socket.destroy());
    this.socket.on("close", () => {
      this.closed = true;
      this.report();
    });
  }

  onData(listener: (data: string) => void): void {
    this.socket.on("data", listener);
  }

  onExit(listener: (exit: Exit) => void): void {
    this.exitListeners.push(listener);
    if (this.closed && this.exit) listener(this.exit);
  }

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  /** The agent has ended: what it printed is read to the end, then the exit is told. */
  exited(exit: Exit): void {
    this.exit = exit;
    this.letGo();
    if (this.closed) {
      this.report();
      return;
    }
    // A process the agent left behind may hold the terminal open: what is there is read, then it goes.
    setTimeout(() => this.socket.destroy(), LAST_OUTPUT_MS);
  }

  /**
   * No exit will be told (the spawner has gone): the agent counts as ended once its terminal closes,
   * or, if something it left holds the terminal, once the agent itself is gone.
   */
  orphaned(): void {
    this.exit = { exitCode: -1 };
    this.letGo();
    this.report();
    const watch = setInterval(() => {
      if (this.closed) return clearInterval(watch);
      try {
        process.kill(this.pid, 0);
      } catch {
        clearInterval(watch);
        setTimeout(() => this.socket.destroy(), LAST_OUTPUT_MS);
      }
    }, ORPHAN_CHECK_MS);
  }

  private letGo(): void {
    if (this.held !== undefined) closeSync(this.held);
    this.held = undefined;
  }

  private report(): void {
    if (!this.closed || !this.exit) return;
    for (const listener of this.exitListeners.splice(0)) listener(this.exit);
  }
}
