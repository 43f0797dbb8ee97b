import type { ContextPack } from "../context/index.js";
import type { Role } from "../worker/types.js";

// The library's option types, plain and readonly, each field with its default.

export interface BatonOptions {
  /** The run store. @default BATON_HOME, else the nearest `.baton` folder, else `./.baton` */
  readonly home?: string;
  /** Where relative paths and the default store are resolved. @default process.cwd() */
  readonly cwd?: string;
  /** The environment workers inherit. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Start the supervisor if none is running. @default true */
  readonly autoStart?: boolean;
  readonly signal?: AbortSignal;
  /**
   * When (ms since the epoch) every request, connecting included, must have been answered; past it
   * they reject with a `timeout` BatonError that names the supervisor's pid. Without it each request
   * still has a bound: a few seconds to connect, its own timeout plus a margin for a wait.
   */
  readonly deadline?: number;
}

export interface SpawnOptions {
  /** The task; the worker preamble is added in front of it. */
  readonly task: string;
  readonly label?: string;
  readonly role?: Role;
  /** Run read-only (the default unless `write` is given or the role is implementer). */
  readonly readOnly?: boolean;
  /** Paths the worker may write. */
  readonly write?: readonly string[];
  /** The agent's working directory. @default the Baton cwd */
  readonly cwd?: string;
  readonly model?: string;
  /** Wall-clock limit. @default 3600 */
  readonly timeoutSeconds?: number;
  /** Stop the worker after this long with no output and no events. @default 600 */
  readonly idleTimeoutSeconds?: number;
  /** Stop the worker once it has used more tokens than this (input + output, all attempts). */
  readonly maxTokens?: number;
  /**
   * Stop the worker once it has cost more than this many US dollars (all attempts). The spawn is refused
   * when the worker cannot be priced (no `model`, or no price for it in `.baton/prices.yaml` or Baton's).
   */
  readonly maxCostUsd?: number;
  /** Re-runs after a transient failure (model 5xx, a model that never answers). @default 2 */
  readonly retries?: number;
  /** The run the worker belongs to, and that run's token and dollar budgets over all its workers. */
  readonly group?: { readonly id: string; readonly maxTokens?: number; readonly maxCostUsd?: number };
  /**
   * The agent CLI: codex, claude or gemini. A follow-up runs on its parent's.
   * @default the workspace's default (`baton config --backend`), else "codex"
   */
  readonly backend?: string;
  /**
   * The agent binary (`--bin`, `--codex-bin`).
   * @default BATON_CODEX_BIN, BATON_CLAUDE_BIN or BATON_GEMINI_BIN (the backend's own), then PATH, then node_modules
   */
  readonly bin?: string;
  /**
   * The worker's program and its arguments, for the `command` and `acp` backends (`--cmd`,
   * `--agent-cmd`): split into argv without a shell (quotes as a shell's), the program found as a binary is.
   */
  readonly agentCommand?: string;
  /** Sets the workspace's concurrency cap; workers beyond it queue in order. */
  readonly maxParallel?: number;
  /** Refuse at once, instead of queueing, when another writer holds one of the `write` paths. */
  readonly noWait?: boolean;
  /** Write in an own git worktree; the change comes back as a commit on branch `baton/<id>-...`. */
  readonly isolate?: boolean;
  /** Run without Baton's own sandbox (only the agent's): allowed, and shown by `ls` and `result`. */
  readonly unconfined?: boolean;
  /** A JSON Schema the final answer must follow (codex `--output-schema`). */
  readonly outputSchema?: Record<string, unknown>;
  /** A review lens (ids from `LENSES`, or free text), for the reviewer template. */
  readonly lens?: string;
  /** A context pack rendered into the prompt. */
  readonly context?: ContextPack;
  /** A template replacing the role's built-in one (see `loadTemplate`). */
  readonly template?: string;
  /** The full prompt, when the caller rendered it; the worker preamble is ensured in front. */
  readonly prompt?: string;
  /**
   * A follow-up: continue the agent thread of this ended worker (codex `exec resume <thread>`). The new
   * worker has its own id; its role, scope, cwd, model and binary are the parent's unless given.
   */
  readonly continues?: string;
  /** The agent's web search (codex: live search). @default on for the research role, else the agent's default */
  readonly search?: boolean;
}

/** A worker whose answer {@link Baton.results} could not give, and why. */
export interface ResultError {
  readonly id: string;
  readonly error: { readonly code: string; readonly message: string };
}

export interface PollOptions {
  /** Whose cursor to use and advance. @default "default" */
  readonly reader?: string;
  /** Read from this byte offset instead of the reader's cursor. */
  readonly since?: number;
  /** Wait up to this long for new output or the end. @default 0 */
  readonly waitMs?: number;
  /** Return at most the last this-many bytes of new output. @default 16384 */
  readonly maxBytes?: number;
  /**
   * Return whole lines only: while the worker runs, the cursor stops before a line still being
   * written, which comes whole with the next poll (what a readable view needs). @default false
   */
  readonly wholeLines?: boolean;
}
