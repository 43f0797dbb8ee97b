import { readSync } from "node:fs";
import type { Socket } from "node:net";
import { StringDecoder } from "node:string_decoder";
import pty, { type IPty } from "@lydell/node-pty";
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
  const terminal = pty.spawn(file, [...args], { name: "xterm-256color", cols: 200, rows: 50, cwd, env });
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
    if (!socket.destroyed) {
      // The socket's own decoder, which may hold the first bytes of a character cut in two.
      const own = (socket as unknown as { _readableState?: { decoder?: StringDecoder } })._readableState;
      const decoder = own?.decoder ?? new StringDecoder("utf8");
      for (let total = 0; total < MAX_LATE_BYTES; ) {
        const n = readLate(fd);
        if (n <= 0) break;
        total += n;
        socket.emit("data", decoder.write(LATE.subarray(0, n)));
      }
      const rest = decoder.end();
      if (rest) socket.emit("data", rest);
    }
    return destroy(error);
  };
}

/** Past this much, a terminal still being written to (a process left holding it) is left. */
const MAX_LATE_BYTES = 1024 * 1024;
/** One buffer for every late read: they are synchronous, so no two use it at once. */
const LATE = Buffer.allocUnsafe(64 * 1024);

/**
 * Reads what the terminal still holds into {@link LATE}: its length, or 0 when nothing more comes
 * now (EAGAIN) or the other end is closed (EIO). Every terminal ends with one of these, so the error
 * is made without a stack trace, which no one reads.
 */
function readLate(fd: number): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return readSync(fd, LATE, 0, LATE.length, null);
  } catch {
    return 0;
  } finally {
    Error.stackTraceLimit = limit;
  }
}
