import { GEMINI_DEFAULT_MODEL } from "../backend/gemini.js";
import { BACKEND_NAMES } from "../backend/registry.js";
import { DEFAULT_BACKEND, readWorkspaceConfig } from "../client/workspace-config.js";
import { BatonError } from "../errors.js";
import type { Agent } from "../merge/index.js";
import { type AgentChoice, roleKeyOf } from "./agents.js";
import type { PatternRunOptions, WorkerAsk } from "./run-options.js";

/**
 * The run options with the run's backend settled (the one given, else the workspace's default, else
 * codex) and every backend they name checked before any worker starts. Settled once, when the run
 * starts, and kept in its record: a resume runs on the same backends whatever the default is by then.
 */
export async function settleAgents<T extends Omit<PatternRunOptions, "cwd">>(
  home: string,
  options: T,
): Promise<T & { readonly backend: string }> {
  const backend = options.backend ?? (await readWorkspaceConfig(home)).backend ?? DEFAULT_BACKEND;
  checkBackend(backend, "the run's backend");
  for (const [role, agent] of Object.entries(options.roleAgents ?? {}))
    if (agent) checkBackend(agent.backend, `role ${role}`);
  return { ...options, backend };
}

/** Throws the one-line usage error for a backend Baton does not know, naming whose it was. */
export function checkBackend(name: string, whose: string): void {
  if (!BACKEND_NAMES.includes(name)) {
    throw new BatonError(
      "usage",
      `unknown backend "${name}" (${whose}): choose one of ${BACKEND_NAMES.join(", ")}`,
    );
  }
}

/** How one worker is started: its backend, the model it asks for, its binary, and its program's command. */
export interface WorkerAgent {
  readonly backend: string;
  readonly model?: string;
  readonly bin?: string;
  /** The `command` backend's program, or the `acp` backend's agent, with its arguments. */
  readonly agentCommand?: string;
}

/**
 * The agent of one worker: its own (a review lens's, a workflow step's), else its role's, else the run's.
 * The run's `model` goes only to workers on the run's backend: a model name means nothing to another.
 */
export function agentFor(options: PatternRunOptions, ask: WorkerAsk): WorkerAgent {
  const run = options.backend ?? DEFAULT_BACKEND;
  const role = roleKeyOf(ask);
  const chosen: AgentChoice | undefined =
    ask.agent ?? (role === undefined ? undefined : options.roleAgents?.[role]);
  const backend = chosen?.backend ?? run;
  const model = chosen?.model ?? (backend === run ? options.model : undefined);
  const bin = options.bins?.[backend] ?? (backend === "codex" ? options.bin : undefined);
  const agentCommand = options.commands?.[backend];
  return {
    backend,
    ...(model ? { model } : {}),
    ...(bin ? { bin } : {}),
    ...(agentCommand ? { agentCommand } : {}),
  };
}

/**
 * The agent as a run's record and its findings name it: the backend, and the model it asked for, or
 * the one Baton asks for in its place (gemini's); absent where the agent picks its own default.
 */
export function namedAgent(agent: WorkerAgent): Agent {
  const model = agent.model ?? (agent.backend === "gemini" ? GEMINI_DEFAULT_MODEL : undefined);
  return { backend: agent.backend, ...(model ? { model } : {}) };
}
