import pty from "@lydell/node-pty";
import type { Converse, Transport } from "../backend/pipes.js";
import { PipeTerminal } from "./pipe-run.js";

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
 * the backend's conversation (ACP). Throws when it cannot start.
 */
export function spawnAgent(
  transport: Transport,
  launch: {
    readonly file: string;
    readonly args: readonly string[];
    readonly env: Record<string, string>;
    readonly converse?: Converse;
  },
  cwd: string,
): AgentTerminal {
  const { file, args, env, converse } = launch;
  if (transport === "pipes") {
    if (!converse) throw new Error("a backend on pipes gave no conversation to hold with its agent");
    return new PipeTerminal(file, args, { cwd, env }, converse);
  }
  return pty.spawn(file, [...args], { name: "xterm-256color", cols: 200, rows: 50, cwd, env });
}
