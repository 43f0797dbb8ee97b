import type { Cost } from "../cost/types.js";
import type { WorkerState } from "./state.js";

export const ROLES = ["scout", "reviewer", "research", "implementer", "verifier"] as const;
export type Role = (typeof ROLES)[number];

/** What a worker may change. */
export type Scope =
  | { readonly kind: "read-only" }
  | { readonly kind: "write"; readonly paths: readonly string[] };

/**
 * The shape of an agent's thread (session) id that Baton keeps: letters, digits, dashes and
 * underscores (opencode's `ses_...`), starting with neither a dash nor a dot. The id comes from the
 * agent's output and becomes an argument of its resume command and part of a file name, so it must
 * never read as a flag or a path.
 */
export const THREAD_ID = /^[0-9A-Za-z][0-9A-Za-z_-]{0,127}$/;

/** Token usage as reported by the agent, summed over its turns. */
export interface Usage {
  readonly inputTokens: number;
  readonly cachedInputTokens: number;
  readonly outputTokens: number;
  readonly reasoningOutputTokens: number;
}

export const ZERO_USAGE: Usage = {
  inputTokens: 0,
  cachedInputTokens: 0,
  outputTokens: 0,
  reasoningOutputTokens: 0,
};

export const totalTokens = (usage: Usage): number => usage.inputTokens + usage.outputTokens;

/** Everything fixed about a worker when it is spawned. Stored as `spec.json`; never holds secrets. */
export interface WorkerSpec {
  readonly id: string;
  readonly label: string | undefined;
  readonly role: Role | undefined;
  readonly scope: Scope;
  /** Absolute working directory of the agent. */
  readonly cwd: string;
  readonly model: string | undefined;
  /** Wall-clock limit in seconds. */
  readonly timeoutSeconds: number;
  /** Stop the worker after this long without output or events. */
  readonly idleTimeoutSeconds: number;
  /** Stop the worker once it has used this many tokens (input + output, over all its attempts). */
  readonly maxTokens: number | undefined;
  /** Stop the worker once it has cost more than this many US dollars (over all its attempts). */
  readonly maxCostUsd?: number;
  /** Re-runs allowed after a transient failure (model 5xx, or a model that never answers). */
  readonly retries: number;
  /** The run this worker belongs to, and that run's token and dollar budgets over all its workers. */
  readonly group:
    | { readonly id: string; readonly maxTokens: number | undefined; readonly maxCostUsd?: number }
    | undefined;
  readonly backend: string;
  /** Absolute path of the agent binary. */
  readonly bin: string;
  /** The task as the caller gave it, before the worker preamble. */
  readonly task: string;
  /** The agent was asked to answer in JSON matching `output-schema.json`. */
  readonly outputSchema: boolean;
  /** The worker writes in its own git worktree; its change comes back as a commit on a branch. */
  readonly isolate: boolean;
  /** An isolated writer's starting point: HEAD's commit when its spawn was accepted. */
  readonly baseCommit?: string;
  /**
   * How the agent's processes are confined: `baton` when Baton's own sandbox (bubblewrap) holds them
   * to the scope, `unconfined` when only the agent's own sandbox does (asked for, or not possible here).
   */
  readonly confinement: "baton" | "unconfined";
  readonly createdAt: string;
  /** The worker whose agent thread this one continues (a follow-up, `spawn --continue`). */
  readonly continues?: string;
  /** A follow-up whose parent ran elsewhere (on a coordinator): the agent thread it continues. */
  readonly inThread?: string;
  /**
   * A follow-up's: how many messages its thread held as it was sent, where the agent's session files
   * tell (codex). A resume sends its text again unless the thread holds more (see `threadHere`).
   */
  readonly threadMessages?: number;
  /** The agent's web search turned on (true) or off (false); absent: the agent's default. */
  readonly search?: boolean;
  /** The arguments after the program of `--cmd` / `--agent-cmd` (the command and acp backends). */
  readonly agentArgs?: readonly string[];
}

/** Why a worker ended the way it did, when that is not plain success. */
export type EndReason =
  | { readonly kind: "exit"; readonly exitCode: number; readonly message?: string }
  | { readonly kind: "signal"; readonly signal: number }
  | { readonly kind: "timeout"; readonly limit: "wall" | "idle"; readonly seconds: number }
  | {
      readonly kind: "budget";
      readonly scope: "worker" | "run";
      readonly limit: number;
      readonly used: number;
      /** What `limit` and `used` count: US dollars (`--max-cost`); absent, tokens (`--max-tokens`). */
      readonly unit?: "usd";
    }
  | { readonly kind: "stopped"; readonly by: "user"; readonly via: "stop" | "interrupt" }
  | { readonly kind: "spawn_failed"; readonly message: string }
  | { readonly kind: "supervisor_lost" };

/** The changing part of a worker, stored as `status.json`. */
export interface WorkerStatus {
  readonly id: string;
  readonly state: WorkerState;
  readonly pid: number | undefined;
  readonly startedAt: string | undefined;
  readonly endedAt: string | undefined;
  readonly exitCode: number | undefined;
  readonly threadId: string | undefined;
  readonly usage: Usage;
  /** Times the worker was re-run after a transient failure. */
  readonly retries: number;
  /** Times `baton resume` continued it after its supervisor was lost. */
  readonly resumes: number;
  readonly reason: EndReason | undefined;
  readonly updatedAt: string;
  /** The model the agent reported it ran, else the one it was asked for; absent: not known yet. */
  readonly model?: string;
  /** What it has cost so far, over every attempt; absent until it starts. */
  readonly cost?: Cost;
  /**
   * The agent's own running total for the worker's thread, as last reported (Claude Code's
   * `total_cost_usd` counts a resumed session's earlier turns): a follow-up's own cost is its figure
   * less this.
   */
  readonly threadUsd?: number;
}

/** A worker's final outcome, stored once as `result.json` and never overwritten. */
export interface WorkerResult {
  readonly id: string;
  readonly label: string | undefined;
  readonly role: Role | undefined;
  readonly state: WorkerState;
  /** The agent's last message; empty when it gave none. */
  readonly answer: string;
  /** Where `answer` came from: the JSON event stream, the last-message file, or none. */
  readonly answerSource: "events" | "last-message-file" | "none";
  /** Set when the event stream and the last-message file disagreed. */
  readonly answerMismatch: boolean;
  readonly exitCode: number | undefined;
  readonly durationMs: number;
  readonly usage: Usage;
  readonly retries: number;
  readonly resumes: number;
  readonly threadId: string | undefined;
  readonly reason: EndReason | undefined;
  readonly endedAt: string;
  /** The model it ran (see {@link WorkerStatus.model}). */
  readonly model?: string;
  /** What it cost in US dollars over every attempt, and where the price came from. */
  readonly cost?: Cost;
  /** See {@link WorkerStatus.threadUsd}. */
  readonly threadUsd?: number;
  /** For an isolated writer: its branch, commit, changed files and conflicts with HEAD. */
  readonly isolation?: {
    readonly branch: string;
    readonly commit: string | undefined;
    readonly changedFiles: readonly string[];
    readonly conflicts: readonly string[];
  };
  /** Whether Baton's sandbox held the agent (see {@link WorkerSpec.confinement}); absent if it never ran. */
  readonly confinement?: WorkerSpec["confinement"];
  /** What a writer made outside its scope: moved into its store folder, or left where it could not be. */
  readonly outsideScope?: {
    readonly moved: readonly string[];
    readonly left: readonly string[];
    readonly restored: readonly string[];
  };
  /** Where it ran, when its workspace is on a queue (docs/scale-out.md). */
  readonly placement?: Placement;
}

/**
 * A worker of a workspace on a queue: the host that ran it, the hosts that died under it, and how the
 * last one took over (in the agent's own thread, or from the prompt again).
 */
export interface Placement {
  readonly host: string;
  readonly lostHosts: readonly string[];
  readonly resumed?: "thread" | "rerun";
}

/** A row of `baton ls`. */
export interface WorkerInfo {
  readonly id: string;
  readonly label: string | undefined;
  readonly role: Role | undefined;
  readonly state: WorkerState;
  readonly elapsedMs: number;
  readonly tokens: number;
  readonly usage: Usage;
  /** What it has cost so far (live while it runs); absent for a worker that never started. */
  readonly cost?: Cost;
  /** The model it runs or ran, as far as known. */
  readonly model?: string;
  readonly retries: number;
  readonly resumes: number;
  readonly threadId: string | undefined;
  readonly exitCode: number | undefined;
  readonly reason: EndReason | undefined;
  readonly createdAt: string;
  readonly confinement: WorkerSpec["confinement"];
  /** Position in the queue (1 = next) while queued. */
  readonly queuePosition: number | undefined;
  /** The agent CLI that runs it. */
  readonly backend?: string;
  /** The worker whose agent thread this one continues (a follow-up). */
  readonly continues?: string;
  /** The pattern or workflow run it belongs to. */
  readonly run?: string;
  /** The host running it (or that ran it), when its workspace is on a queue. */
  readonly host?: string;
}
