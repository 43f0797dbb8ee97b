import type { NamedAgents } from "../client/agent-schema.js";
import type { ContextPack } from "../context/index.js";
import type { Agent } from "../merge/index.js";
import type { Role, WorkerResult } from "../worker/types.js";
import type { AgentChoice, RoleKey } from "./agents.js";
import type { RunSettings } from "./run-record.js";

/** What a pattern asks of one worker. */
export interface WorkerAsk {
  readonly label: string;
  /** The plan step this worker belongs to. */
  readonly step: string;
  readonly task: string;
  readonly role?: Role;
  readonly lens?: string;
  /** Paths it may write; readers leave this out. */
  readonly write?: readonly string[];
  readonly outputSchema?: Record<string, unknown>;
  /** Overrides the run's context pack for this worker (the scout pattern condenses its own). */
  readonly context?: ContextPack;
  /** A complete prompt body to use instead of a role template (synthesis workers). */
  readonly body?: string;
  /** The agent's web search on or off; unset: the role's default (on for research). */
  readonly search?: boolean;
  /** The agent this worker runs on, before its role's and the run's (a review lens's, a workflow step's). */
  readonly agent?: AgentChoice;
}

/** Something a live view can show. */
export type RunEvent =
  | { readonly type: "step"; readonly step: string }
  | {
      readonly type: "worker_started";
      readonly id: string;
      readonly label: string;
      readonly step: string;
      /** The backend it runs on, and the model where known. */
      readonly agent?: Agent;
    }
  | {
      readonly type: "worker_ended";
      readonly id: string;
      readonly label: string;
      readonly result: WorkerResult;
    }
  | { readonly type: "note"; readonly text: string };

export interface PatternRunOptions {
  readonly cwd: string;
  readonly context?: ContextPack;
  /** User templates by role, replacing the built-in ones. */
  readonly templates?: Partial<Record<Role, string>>;
  readonly timeoutSeconds?: number;
  /** Each worker's idle timeout, token budget and retries. */
  readonly idleTimeoutSeconds?: number;
  readonly maxTokens?: number;
  /** Each worker's dollar budget (`--max-cost`). */
  readonly maxCostUsd?: number;
  readonly retries?: number;
  /** A token budget over all the run's workers together. */
  readonly runMaxTokens?: number;
  /** A dollar budget over all the run's workers together (`--run-max-cost`). */
  readonly runMaxCostUsd?: number;
  /** Every worker's backend, unless its lens, step or role names another. @default the workspace's, else codex */
  readonly backend?: string;
  /** The model of the workers that run on the run's backend (the others: their choice's, or their default). */
  readonly model?: string;
  /** The agent of each role's workers (`--role-backend implementer=claude`); `synthesis`: the judgement workers. */
  readonly roleAgents?: Readonly<Partial<Record<RoleKey, AgentChoice>>>;
  /** The codex binary (`--codex-bin`). */
  readonly bin?: string;
  /** Each backend's binary, by backend name; else the backend's own variable, PATH, node_modules. */
  readonly bins?: Readonly<Record<string, string>>;
  /** The program of the `command` and `acp` backends' workers, by backend name (`--cmd`, `--agent-cmd`). */
  readonly commands?: Readonly<Record<string, string>>;
  /**
   * The named agents of the config (`baton config --agent`), settled when the run starts and kept in its
   * record: a resume runs the same programs whatever the config says by then.
   */
  readonly agents?: NamedAgents;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: RunEvent) => void;
  /**
   * The run is being resumed: a worker the record already holds for the same step and label is used
   * again instead of started (a lost one is resumed first); only a canceled one is started afresh.
   */
  readonly resume?: boolean;
}

/** The run options kept in the record, so that a resume starts workers the same way. */
const SETTINGS = [
  "cwd",
  "context",
  "templates",
  "timeoutSeconds",
  "idleTimeoutSeconds",
  "maxTokens",
  "maxCostUsd",
  "retries",
  "runMaxTokens",
  "runMaxCostUsd",
  "backend",
  "model",
  "roleAgents",
  "bin",
  "bins",
  "commands",
  "agents",
] as const satisfies readonly (keyof RunSettings & keyof PatternRunOptions)[];

/** What of the run options is kept in the record (as plain JSON). */
export function runSettings(options: PatternRunOptions): RunSettings {
  const kept = Object.fromEntries(SETTINGS.map((key) => [key, options[key]]));
  return JSON.parse(JSON.stringify(kept)) as RunSettings;
}

/** The run options a record's settings stand for. */
export function fromSettings(settings: RunSettings): PatternRunOptions {
  return settings as PatternRunOptions;
}
