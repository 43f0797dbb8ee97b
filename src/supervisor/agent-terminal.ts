import type { Socket } from "node:net";
import pty, { type IPty } from "@lydell/node-pty";
import type { Converse, Transport } from "../backend/pipes.js";
import { PipeTerminal } from "./pipe-run.js";
import { Spawner, SpawnerGone } from "./spawner.js";
import { drainAtDestroy } from "./terminal-drain.js";

const TERM_NAME = "xterm-256color";

/** What a worker's run needs of its agent's process, whichever way Baton talks to it. */
export interface AgentTerminal {
  readonly pid: number;
  onData(listener: (data: string) => void): void;
  onExit(listener: (exit: { exitCode: number; signal?: number }) => void): void;
  /** Types into the terminal; on pipes, only Ctrl+C means something (the conversation's interrupt). */
  write(text: string): void;
}

/**
 * Starts an attempt's agent the way its backend talks to it: in a pseudo-terminal, or on pipes with
 * the backend's conversation (ACP). A terminal's agent started by the native launcher is forked by
 * the launcher's spawner (see spawner.ts); without the launcher, by node-pty. Rejects when it cannot
 * start.
 */
export async function spawnAgent(
  transport: Transport,
  launch: {
    readonly file: string;
    readonly args: readonly string[];
    readonly env: Record<string, string>;
    readonly converse?: Converse;
    /** The store's copy of the native launcher, where there is one. */
    readonly launcher?: string;
  },
  cwd: string,
  home: string,
): Promise<AgentTerminal> {
  const { file, args, env, converse, launcher } = launch;
  if (transport === "pipes") {
    if (!converse) throw new Error("a backend on pipes gave no conversation to hold with its agent");
    return new PipeTerminal(file, args, { cwd, env }, converse);
  }
  // As node-pty sets them.
  const terminalEnv = { ...env, PWD: cwd, TERM: TERM_NAME };
  if (launcher !== undefined && file === launcher) {
    // A spawner that has ended is started again, once; one that cannot work here (it ended before
    // starting anything), or ends again, leaves the agent to node-pty.
    for (let tries = 0; tries < 2; tries++) {
      const spawner = Spawner.of(launcher, home);
      if (!spawner) break;
      try {
        return await spawner.start(launch, terminalEnv, cwd);
      } catch (error) {
        if (!(error instanceof SpawnerGone)) throw error;
      }
    }
  }
  const terminal = pty.spawn(file, [...args], { name: TERM_NAME, cols: 200, rows: 50, cwd, env });
  readToTheEnd(terminal);
  return terminal;
}

/**
 * node-pty gives a terminal 200 ms after its process has exited to reach the end of what it printed,
 * then destroys it: what is left is read first (see {@link drainAtDestroy}).
 */
export function readToTheEnd(terminal: IPty): void {
  const inner = terminal as unknown as { _socket?: Socket; _fd?: unknown };
  if (inner._socket && typeof inner._fd === "number") drainAtDestroy(inner._socket, inner._fd);
}
