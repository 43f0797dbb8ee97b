import { GEMINI_DEFAULT_MODEL } from "../backend/gemini.js";
import type { NamedAgents } from "../client/agent-schema.js";
import { knownBackend, loadNamedAgents, resolveBackend, unknownBackend } from "../client/named-agents.js";
import { DEFAULT_BACKEND, readWorkspaceConfig } from "../client/workspace-config.js";
import type { Agent } from "../merge/index.js";
import { type AgentChoice, roleKeyOf } from "./agents.js";
import type { PatternRunOptions, WorkerAsk } from "./run-options.js";

/**
 * The run options with the run's backend settled (the one given, else the workspace's default, else
 * codex), the config's named agents with it (those the options hold already, a resumed run's, win), and
 * every backend they name checked before any worker starts. Settled once, when the run starts, and kept
 * in its record: a resume runs on the same backends and programs whatever the config says by then.
 */
export async function settleAgents<T extends Omit<PatternRunOptions, "cwd">>(
  home: string,
  options: T,
): Promise<T & { readonly backend: string; readonly agents?: NamedAgents }> {
  const backend = options.backend ?? (await readWorkspaceConfig(home)).backend ?? DEFAULT_BACKEND;
  const agents = { ...(await loadNamedAgents(home)), ...options.agents };
  checkBackend(backend, "the run's backend", agents);
  for (const [role, agent] of Object.entries(options.roleAgents ?? {}))
    if (agent) checkBackend(agent.backend, `role ${role}`, agents);
  return { ...options, backend, ...(Object.keys(agents).length > 0 ? { agents } : {}) };
}

/** Throws the one-line usage error for a backend Baton does not know, naming whose it was. */
export function checkBackend(name: string, whose: string, agents: NamedAgents = {}): void {
  if (!knownBackend(name, agents)) throw unknownBackend(name, agents, whose);
}

/** How one worker is started: its backend, the model it asks for, its binary, and its program's command. */
export interface WorkerAgent {
  readonly backend: string;
  readonly model?: string;
  readonly bin?: string;
  /** The `command` backend's program, or the `acp` backend's agent, with its arguments. */
  readonly agentCommand?: string;
  /** The named agent of the config it runs as. */
  readonly agent?: string;
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
  const name = chosen?.backend ?? run;
  const model = chosen?.model ?? (name === run ? options.model : undefined);
  // A named agent runs on its backend with its own line (settled when the run started).
  const { backend, agentCommand = options.commands?.[name], agent } = resolveBackend(name, options.agents);
  const bin = options.bins?.[backend] ?? (backend === "codex" ? options.bin : undefined);
  return {
    backend,
    ...(model ? { model } : {}),
    ...(bin ? { bin } : {}),
    ...(agentCommand ? { agentCommand } : {}),
    ...(agent ? { agent } : {}),
  };
}

/**
 * The agent as a run's findings and progress name it: the backend (a named agent's name), and the model
 * it asked for, or the one Baton asks for in its place (gemini's); absent where the agent picks its own.
 */
export function namedAgent(agent: WorkerAgent): Agent {
  const model = agent.model ?? (agent.backend === "gemini" ? GEMINI_DEFAULT_MODEL : undefined);
  return { backend: agent.agent ?? agent.backend, ...(model ? { model } : {}) };
}
