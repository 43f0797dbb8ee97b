import type { Usage, WorkerSpec } from "../worker/types.js";
import type { Converse, Transport } from "./pipes.js";

/** What a backend reads from an agent's output, normalized across agents. */
export type AgentEvent =
  | { readonly type: "thread"; readonly threadId: string }
  | { readonly type: "turn_started" }
  | {
      readonly type: "turn_completed";
      readonly usage: Usage;
      /**
       * The agent's own price of its thread so far in US dollars, where it reports one (Claude Code's
       * `total_cost_usd`: over a resumed thread it includes the earlier turns).
       */
      readonly costUsd?: number;
    }
  /** The attempt's usage so far, before its turn ends (for budgets that must bite mid-turn). */
  | { readonly type: "usage"; readonly usage: Usage }
  /** The model the agent says it runs (what prices its tokens). */
  | { readonly type: "model"; readonly model: string }
  | { readonly type: "turn_failed"; readonly message: string }
  | { readonly type: "message"; readonly text: string }
  | { readonly type: "reasoning"; readonly text: string }
  | {
      readonly type: "command";
      readonly command: string;
      readonly status: string;
      readonly exitCode: number | undefined;
    }
  | { readonly type: "file_change"; readonly paths: readonly string[] }
  | { readonly type: "tool_call"; readonly server: string; readonly tool: string; readonly status: string }
  | { readonly type: "plan"; readonly items: readonly { text: string; completed: boolean }[] }
  | { readonly type: "error"; readonly message: string };

/**
 * How to start the agent for one worker. The core runs it in a pseudo-terminal or on pipes (the
 * backend's `transport`), never through a shell.
 */
export interface LaunchPlan {
  readonly file: string;
  readonly args: readonly string[];
  /**
   * A file the agent reads as its standard input (its prompt) instead of its terminal: an argument is
   * capped at 128 KiB by the kernel, and a terminal's line discipline would mangle long lines.
   */
  readonly stdin?: string;
  /** Variables the backend adds to the worker's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** A `pipes` backend's side of the conversation with the agent, once it has started. */
  readonly converse?: Converse;
}

export interface LaunchContext {
  /** File holding the full prompt (preamble included). */
  readonly promptFile: string;
  /** File the agent may write its last message to. */
  readonly lastMessageFile: string;
  /** JSON Schema the final answer must follow, when the spec asks for one. */
  readonly outputSchemaFile: string | undefined;
  /** Continue this recorded thread instead of starting a new one; the prompt file then says so. */
  readonly resumeThreadId?: string;
  /** The worker's own temporary folder (also its `TMPDIR`): writable, removed when it ends. */
  readonly tmpDir: string;
  /**
   * Folders the agent's own sandbox should let it write (a file scope gives its folder; Baton's
   * sandbox then holds it to the file). Empty for a reader.
   */
  readonly writeRoots: readonly string[];
  /** Folders the agent's commands must neither read nor write (the run store). */
  readonly hidden: readonly string[];
  /**
   * A folder of the run store for what the agent must find again after the worker ends (Claude Code's
   * sessions, to resume a thread), this backend's alone. A backend that keeps state there names its
   * folders in {@link Backend.agentHomes}, which Baton makes and keeps writable.
   */
  readonly agentStateDir: string;
}

/** Token usage an agent reports while it works, before its turn ends. */
export interface LiveUsage {
  /** The usage so far in this attempt, or undefined when nothing is known yet. */
  read(): Usage | undefined;
  /** The model the agent's own log says it runs, once read. */
  model?(): string | undefined;
  /** Lets go of what the reading holds open; a later `read` opens it again. */
  close?(): void;
}

/** Reads one worker's output line by line. */
export interface OutputParser {
  /** Parses one line of terminal output (no line ending). */
  line(text: string): AgentEvent[];
  /** What the output says once it has ended (a command's last paragraph), if anything. */
  end?(): AgentEvent[];
}

/** How an agent run ended, as far as the agent itself is concerned. */
export interface AgentOutcome {
  readonly ok: boolean;
  readonly answer: string;
  readonly answerSource: "events" | "last-message-file" | "none";
  readonly answerMismatch: boolean;
  /** The agent's own account of a failure. */
  readonly error: string | undefined;
  /** Set when the failure was transient (a model 5xx, a lost connection): worth running again. */
  readonly transient: string | undefined;
  /** The agent's own price of its thread in US dollars, where it reports one (see `turn_completed`). */
  readonly costUsd?: number;
}

/** The seam between Baton's core and one kind of coding agent. */
export interface Backend {
  readonly name: string;
  /** How Baton talks to the agent: a pseudo-terminal, or pipes (ACP). */
  readonly transport: Transport;
  /** Finds the agent binary, or throws a BatonError that says how to install it. */
  locate(options: {
    readonly explicitBin?: string;
    readonly env: NodeJS.ProcessEnv;
    readonly cwd: string;
  }): string;
  launch(spec: WorkerSpec, context: LaunchContext): LaunchPlan;
  /**
   * Folders the agent itself writes besides its scope (its home, session logs): Baton's sandbox keeps
   * them writable. Made if missing.
   */
  agentHomes(env: Readonly<Record<string, string>>): string[];
  /**
   * Whether the agent's own sandbox mounts over `.git`, `.codex`, `.agents` and `.aws` in each folder
   * it may write, making each one missing (codex): Baton makes them first, and removes them when the
   * last writer there ends (see confine/shared-folders.ts).
   */
  readonly makesMountPoints?: boolean;
  /** Whether `launch` can continue a thread (`resumeThreadId`). */
  readonly canResume: boolean;
  /**
   * Whether this machine holds what `launch` needs to continue `threadId` (its session files, in the
   * agent's home or in `agentStateDir`): a host taking over a lost worker continues its thread only
   * then, and runs it again from its prompt otherwise. Absent: never.
   */
  hasThread?(
    threadId: string,
    where: { readonly env: Readonly<Record<string, string>>; readonly agentStateDir: string },
  ): boolean;
  /**
   * Whether the thread's session files hold `text` as a message the agent took in: a follow-up's own
   * text, which a thread cut off as it came may lack (see `threadHere`); with `before`, only once they
   * hold more messages than that (what `threadMessages` said as the follow-up was sent). Absent:
   * assumed held.
   */
  holdsMessage?(
    threadId: string,
    text: string,
    where: { readonly env: Readonly<Record<string, string>>; readonly agentStateDir: string },
    before?: number,
  ): boolean;
  /** How many messages the thread's session files hold, where they can be read whole. */
  threadMessages?(
    threadId: string,
    where: { readonly env: Readonly<Record<string, string>>; readonly agentStateDir: string },
  ): number | undefined;
  /**
   * Whether the agent reports what its thread cost in dollars (`turn_completed`'s `costUsd`): its
   * workers are priced by the agent, whatever the price tables hold.
   */
  readonly reportsCost?: boolean;
  /**
   * False for an agent that reports no tokens at all (a plain command): its cost is `unpriced`, never a
   * silent $0, and a cost budget cannot be given to it. @default true
   */
  readonly reportsUsage?: boolean;
  /**
   * The agent runs one turn and ends (`codex exec`, `gemini -p`): once its turn has completed, an agent
   * that stays, silent, has failed to end, and Baton stops it sooner than the idle timeout, keeping its
   * answer. Not Claude Code, whose run may take another turn after its `result` (a background task's
   * end, a scheduled wake-up). @default false
   */
  readonly endsAfterTurn?: boolean;
  /**
   * The model the agent runs when the spec names none, where Baton can tell before it starts (a
   * default Baton passes, or the agent's own config): what a cost budget is checked against at spawn.
   */
  defaultModel?(env: Readonly<Record<string, string>>): string | undefined;
  /**
   * Whether the agent at `bin` reads what is typed into its terminal once it has started. `codex exec`
   * does not: it reads its prompt to the end of stdin and never reads the terminal, so `send` is
   * refused for it and a follow-up goes through its thread instead.
   */
  acceptsInput(bin: string): boolean;
  /** Live usage for a thread, for budgets that must bite before the turn ends. */
  liveUsage?(threadId: string, env: Readonly<Record<string, string>>): LiveUsage;
  parser(): OutputParser;
  /** Decides the outcome from the events seen, the exit code and the last-message file. */
  outcome(input: {
    readonly events: readonly AgentEvent[];
    readonly exitCode: number;
    readonly lastMessageFile: string | undefined;
  }): AgentOutcome;
}
