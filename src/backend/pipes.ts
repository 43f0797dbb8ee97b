import type { Readable, Writable } from "node:stream";

/**
 * How Baton talks to an agent: in a pseudo-terminal (its prompt on stdin from a file, its output read
 * as lines), or over pipes, where Baton speaks a protocol with it on stdin and stdout (ACP's JSON-RPC,
 * which a terminal would mangle).
 */
export type Transport = "pty" | "pipes";

/** What the pipes runner hands a backend's conversation: the agent's stdin and stdout, and the transcript. */
export interface AgentPipes {
  readonly stdin: Writable;
  readonly stdout: Readable;
  /**
   * Writes one line into the worker's transcript (no line ending; it must hold none). The backend's
   * parser reads the same lines back as events, live and for `baton logs`.
   */
  record(line: string): void;
}

/** One worker's conversation with an agent over pipes, from its start to the end of its turn. */
export interface Conversation {
  /**
   * Settles once there is nothing more to say: the turn ended (answered, failed or canceled) or the
   * agent went away. Never rejects; the runner then closes the agent's stdin and lets it exit.
   */
  readonly done: Promise<void>;
  /** Ctrl+C's counterpart (Baton's interrupt, and the first step of a stop): ask the agent to stop. */
  interrupt(): void;
}

/** Starts the conversation once the agent's process is up. */
export type Converse = (pipes: AgentPipes) => Conversation;
