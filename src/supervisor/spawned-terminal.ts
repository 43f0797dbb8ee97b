import { closeSync } from "node:fs";
import { createRequire } from "node:module";
import { StringDecoder } from "node:string_decoder";
import tty from "node:tty";
import type { AgentLaunch, AgentTerminal } from "./agent-terminal.js";
import type { Ended, Spawner } from "./spawner.js";
import { drainTerminal } from "./terminal-drain.js";

/** node-pty's own native module: the one call it makes to open a terminal, with no process in it. */
interface NativePty {
  open(cols: number, rows: number): { master: number; slave: number; pty: string };
}

const nativePty = ((): NativePty | undefined => {
  try {
    const load = createRequire(import.meta.url);
    return load(`@lydell/node-pty-${process.platform}-${process.arch}/pty.node`) as NativePty;
  } catch {
    return undefined;
  }
})();

/** True where agents can start in a terminal this process opens, by the spawner. */
export const canOpenTerminals = nativePty !== undefined;

/** As long as node-pty gives a terminal to reach the end of its output once its process exited. */
const DRAIN_AFTER_EXIT_MS = 200;

/**
 * An agent in a terminal the supervisor opened and the spawner started it in (spawner.ts): read and
 * typed into as node-pty's are, and ended as node-pty ends one. Its exit comes once the spawner has
 * seen the agent end and its output has closed, or DRAIN_AFTER_EXIT_MS after the exit at most (a
 * process the agent left may hold the terminal), having read what was left in it.
 *
 * Its output's end is not taken on libuv's word: once the agent has let the terminal go, libuv takes
 * the next short read for the end, though the terminal may still hold the agent's last kilobytes (it
 * gives 4 KiB a read). So at that end, what is left is read before the output counts as closed; and
 * the text is decoded here, so that a character cut there is not spoilt.
 */
export class SpawnedTerminal implements AgentTerminal {
  pid = 0;
  private readonly socket: tty.ReadStream;
  private readonly decoder = new StringDecoder("utf8");
  private readonly dataListeners: ((data: string) => void)[] = [];
  private readonly exitListeners: ((exit: { exitCode: number; signal?: number; lost?: string }) => void)[] =
    [];
  /** Output before anyone listened. */
  private early: string[] = [];
  private outputClosed = false;
  private ended: Ended | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** How it ended, once told: a listener that comes later hears it at once. */
  private exited: { exitCode: number; signal?: number; lost?: string } | undefined;

  private constructor(private readonly master: number) {
    this.socket = new tty.ReadStream(master);
    this.socket.on("data", (bytes: Buffer) => this.take(bytes));
    this.socket.on("end", () => this.readRest());
    this.socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EAGAIN") this.outputEnded(); // EIO: every process has let the terminal go
    });
    this.socket.on("close", () => this.outputEnded());
  }

  /** Starts `file` with `args` in a new terminal of 200 by 50; resolves once it runs. */
  static async start(spawner: Spawner, launch: AgentLaunch, cwd: string): Promise<SpawnedTerminal> {
    if (!nativePty) throw new Error("no terminal can be opened here");
    const pair = nativePty.open(200, 50);
    const terminal = new SpawnedTerminal(pair.master);
    try {
      // As node-pty gives them: the folder it starts in, and the terminal's type.
      const env = { ...launch.env, PWD: cwd, TERM: launch.env.TERM ?? "xterm-256color" };
      const { file, args, nice, shield } = launch.shieldedStart
        ? { ...launch.shieldedStart, shield: true }
        : { ...launch, nice: 0, shield: false };
      const request = { tty: pair.pty, cwd, file, argv: [file, ...args], env, shield, nice };
      terminal.pid = await spawner.start(request, (ended) => terminal.onEnded(ended));
    } catch (error) {
      terminal.socket.destroy();
      throw error;
    } finally {
      // The agent holds the terminal now: once it and what it starts let go, reading it says so (EIO).
      closeSync(pair.slave);
    }
    return terminal;
  }

  onData(listener: (data: string) => void): void {
    this.dataListeners.push(listener);
    const early = this.early;
    this.early = [];
    for (const data of early) listener(data);
  }

  onExit(listener: (exit: { exitCode: number; signal?: number; lost?: string }) => void): void {
    if (this.exited) listener(this.exited);
    else this.exitListeners.push(listener);
  }

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  private onEnded(ended: Ended): void {
    this.ended = ended;
    if (this.outputClosed) {
      this.exit();
      return;
    }
    // Lost: the agent may well still run, and its terminal tells when it is over.
    if (!ended.lost) this.timer = setTimeout(() => this.drain(), DRAIN_AFTER_EXIT_MS);
  }

  private take(bytes: Buffer): void {
    this.hand(this.decoder.write(bytes));
  }

  private hand(data: string): void {
    if (!data) return;
    if (this.dataListeners.length === 0) this.early.push(data);
    for (const listener of this.dataListeners) listener(data);
  }

  /** What the terminal still holds, read now (the socket is open: its end is closed after this). */
  private readRest(): void {
    if (!this.socket.destroyed) drainTerminal(this.master, (bytes) => this.take(bytes));
  }

  private outputEnded(): void {
    if (!this.outputClosed) this.hand(this.decoder.end());
    this.outputClosed = true;
    if (this.ended) this.exit();
  }

  /** The agent exited and its terminal is still held: what is in it is read, then it is closed. */
  private drain(): void {
    this.readRest();
    this.outputEnded();
  }

  private exit(): void {
    if (this.exited || !this.ended) return;
    clearTimeout(this.timer);
    if (!this.socket.destroyed) this.socket.destroy();
    const { exitCode, signal, lost } = this.ended;
    this.exited = { exitCode, signal, ...(lost ? { lost } : {}) };
    for (const listener of this.exitListeners) listener(this.exited);
  }
}
