import type { Socket } from "node:net";
import pty, { type IPty } from "@lydell/node-pty";
import type { Converse, Transport } from "../backend/pipes.js";
import type { Command } from "../confine/launcher.js";
import { PipeTerminal } from "./pipe-run.js";
import { canOpenTerminals, SpawnedTerminal } from "./spawned-terminal.js";
import { spawner } from "./spawner.js";
import { drainIntoSocket } from "./terminal-drain.js";
import { asUser } from "./user-umask.js";

/** What a worker's run needs of its agent's process, whichever way Baton talks to it. */
export interface AgentTerminal {
  readonly pid: number;
  onData(listener: (data: string) => void): void;
  /** `lost`: Baton could not learn how it exited, and why (its code and signal then say nothing). */
  onExit(listener: (exit: { exitCode: number; signal?: number; lost?: string }) => void): void;
  /** Types into the terminal; on pipes, only Ctrl+C means something (the conversation's interrupt). */
  write(text: string): void;
}

/** What an attempt's agent is started as (supervisor/worker-launch.ts makes it). */
export interface AgentLaunch {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  /** On pipes: the conversation Baton holds with the agent (ACP). */
  readonly converse?: Converse;
  /** In Baton's sandbox: the start without the launcher's first step (see confine/launcher.ts). */
  readonly shieldedStart?: Command["shieldedStart"];
}

/**
 * Starts an attempt's agent as {@link spawnAgent} does; in a terminal, by the spawner where there is
 * one (spawner.ts), so that the supervisor does not fork itself.
 */
export async function startAgent(
  transport: Transport,
  launch: AgentLaunch,
  cwd: string,
): Promise<AgentTerminal> {
  const by = transport === "pty" && canOpenTerminals ? spawner() : undefined;
  if (!by) return spawnAgent(transport, launch, cwd);
  try {
    return await SpawnedTerminal.start(by, launch, cwd);
  } catch (error) {
    if (!by.gone) throw error;
    return spawnAgent(transport, launch, cwd); // it ended meanwhile: the agent never started
  }
}

/**
 * Starts an attempt's agent the way its backend talks to it: in a pseudo-terminal, or on pipes with
 * the backend's conversation (ACP). Throws when it cannot start.
 */
export function spawnAgent(transport: Transport, launch: AgentLaunch, cwd: string): AgentTerminal {
  const { file, args, env, converse } = launch;
  if (transport === "pipes") {
    if (!converse) throw new Error("a backend on pipes gave no conversation to hold with its agent");
    return new PipeTerminal(file, args, { cwd, env }, converse);
  }
  const terminal = asUser(() =>
    pty.spawn(file, [...args], { name: "xterm-256color", cols: 200, rows: 50, cwd, env }),
  );
  readToTheEnd(terminal);
  return terminal;
}

/**
 * node-pty gives a terminal 200 ms after its process has exited to reach the end of what it printed,
 * then destroys it, and what was still unread is lost. A supervisor busy with other workers can be
 * slower than that, and the end of an agent's output is often its answer. So before the terminal is
 * destroyed, what is left in it is read and handed on.
 */
export function readToTheEnd(terminal: IPty): void {
  const inner = terminal as unknown as { _socket?: Socket; _fd?: unknown };
  const socket = inner._socket;
  const fd = inner._fd;
  if (!socket || typeof fd !== "number") return; // another node-pty inside: as it is
  const destroy = socket.destroy.bind(socket);
  socket.destroy = (error?: Error) => {
    if (!socket.destroyed) drainIntoSocket(fd, socket);
    return destroy(error);
  };
}
