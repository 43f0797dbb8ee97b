import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { getSystemErrorName } from "node:util";
import { LineSplitter } from "../protocol/lines.js";
import { asUser } from "./user-umask.js";

// The supervisor's agents are started by a small program of Baton's (native/spawn.c), not by a fork
// of the supervisor: a fork copies the supervisor's page tables and makes each page it writes next
// fault once, 1 to 3 ms of its CPU an agent with its event loop held, more when the machine is busy.
// The program is started once, on the first agent's start, from the package the supervisor itself
// was started from (before any worker ran, so before any worker could have changed it). If it ends,
// agents start by a fork again, as they do where no C compiler built it.

/** The program the build made, if it did (`dist/native/baton-spawn`). */
const BUILT = fileURLToPath(new URL("../native/baton-spawn", import.meta.url));

/** How an agent ended: as node-pty tells it (a signal's exit has code 0), or why Baton cannot tell. */
export interface Ended {
  readonly exitCode: number;
  readonly signal: number;
  /** Baton lost the agent's exit status (its spawner ended first): why, for the transcript. */
  readonly lost?: string;
}

export interface SpawnRequest {
  /** The slave end of the agent's terminal (`/dev/pts/N`): its controlling terminal and stdio. */
  readonly tty: string;
  readonly cwd: string;
  readonly file: string;
  /** Its arguments, `file` first (argv[0]). */
  readonly argv: readonly string[];
  readonly env: Record<string, string>;
  /** Whether it starts with the signals a stop or the terminal sends ignored (see native/spawn.c). */
  readonly shield?: boolean;
  /** How much lower its priority (and its session's) is than the supervisor's: 0 to 19. */
  readonly nice?: number;
}

const LOST = "Baton's spawner ended before the agent did, so its exit status is not known";

class Spawner {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly starting = new Map<number, { resolve(pid: number): void; reject(error: Error): void }>();
  private readonly running = new Map<number, (ended: Ended) => void>();
  /** Exits heard before their pid was handed over (none in order, but cheap to keep safe). */
  private readonly early = new Map<number, Ended>();
  gone = false;

  constructor(program: string) {
    // Its workers inherit its umask: the user's.
    this.child = asUser(() => spawn(program, [], { stdio: ["pipe", "pipe", "ignore"] }));
    const { stdin, stdout } = this.child;
    this.child.once("error", () => this.end());
    stdin?.on("error", () => this.end());
    const splitter = new LineSplitter(4096);
    stdout?.on("data", (chunk: Buffer) => {
      try {
        for (const line of splitter.push(chunk)) this.onLine(line);
      } catch {
        this.end();
      }
    });
    stdout?.once("close", () => this.end());
    this.idle();
  }

  /** Starts `request`'s program; resolves with its pid once it runs. */
  start(request: SpawnRequest, ended: (ended: Ended) => void): Promise<number> {
    if (this.gone) return Promise.reject(new Error(LOST));
    const id = this.nextId++;
    const env = Object.entries(request.env).map(([name, value]) => `${name}=${value}`);
    const { tty, cwd, shield = false, nice = 0, file, argv } = request;
    const fields = [String(id), tty, cwd, shield ? "1" : "0", String(nice), file, String(argv.length)];
    const body = Buffer.from([...fields, ...argv, String(env.length), ...env].map((f) => `${f}\0`).join(""));
    this.busy();
    return new Promise<number>((resolve, reject) => {
      this.starting.set(id, {
        resolve: (pid) => {
          const early = this.early.get(pid);
          this.early.delete(pid);
          if (early) queueMicrotask(() => ended(early));
          else this.running.set(pid, ended);
          resolve(pid);
        },
        reject,
      });
      this.child.stdin?.write(Buffer.concat([Buffer.from(`${body.length}\n`), body]));
    });
  }

  private onLine(line: string): void {
    const [kind, a, b] = line.split(" ");
    const first = Number(a);
    const second = Number(b);
    if (kind === "S" || kind === "F") {
      const waiter = this.starting.get(first);
      this.starting.delete(first);
      if (kind === "S") waiter?.resolve(second);
      else waiter?.reject(Object.assign(new Error(errnoText(second)), { errno: second }));
    } else if (kind === "X") {
      const status = second;
      const ended: Ended = {
        exitCode: (status & 0x7f) === 0 ? (status >> 8) & 0xff : 0,
        signal: (status & 0x7f) !== 0 && (status & 0x7f) !== 0x7f ? status & 0x7f : 0,
      };
      const listener = this.running.get(first);
      this.running.delete(first);
      if (listener) listener(ended);
      else this.early.set(first, ended);
    } else throw new Error(`baton-spawn: ${line}`);
    if (this.starting.size === 0 && this.running.size === 0) this.idle();
  }

  /** While it starts or follows an agent it keeps the process alive; idle, it does not. */
  private busy(): void {
    this.child.ref();
    (this.child.stdout as { ref?: () => void } | null)?.ref?.();
  }

  private idle(): void {
    this.child.unref();
    (this.child.stdout as { unref?: () => void } | null)?.unref?.();
    (this.child.stdin as { unref?: () => void } | null)?.unref?.();
  }

  private end(): void {
    if (this.gone) return;
    this.gone = true;
    for (const { reject } of this.starting.values()) reject(new Error(LOST));
    this.starting.clear();
    for (const listener of this.running.values()) listener({ exitCode: 0, signal: 0, lost: LOST });
    this.running.clear();
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
  }
}

/** Why a program did not start, from its errno. */
function errnoText(errno: number): string {
  try {
    return `could not start the agent (${getSystemErrorName(-errno)})`;
  } catch {
    return `could not start the agent (error ${errno})`;
  }
}

let shared: Spawner | undefined;

/** The supervisor's spawner, started on first use; undefined where there is none (not built, or it ended). */
export function spawner(): Spawner | undefined {
  if (shared === undefined) {
    if (!existsSync(BUILT)) return undefined;
    shared = new Spawner(BUILT);
  }
  return shared.gone ? undefined : shared;
}

export type { Spawner };
