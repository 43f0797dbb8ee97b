import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { BACKEND_NAMES, isBackendName } from "../backend/names.js";
import { BatonError } from "../errors.js";
import type { NamedAgent, NamedAgents } from "./agent-schema.js";
import { CONFIG_FILE, readWorkspaceConfig, writeWorkspaceConfig } from "./workspace-config.js";

// Named agents: `baton config --agent lint --cmd "./lint-agent.sh --strict"` once, then `--backend lint`
// wherever a backend's name is taken (spawn, a lens, a role, a workflow step, the workspace's default,
// the MCP tools). A name stands for its backend (`command` or `acp`) with its program line, exactly as
// `--cmd LINE` or `--agent-cmd LINE` would give it. They live in `.baton/config.json` for the workspace
// and in `config.json` of the user config folder ($XDG_CONFIG_HOME/baton, else ~/.config/baton) for
// every workspace, as prices do; the workspace's wins over the user's of the same name.

export type { NamedAgent, NamedAgents } from "./agent-schema.js";

/** A named agent as `baton config` shows it: where it is kept. */
export interface NamedAgentEntry {
  readonly name: string;
  readonly agent: NamedAgent;
  readonly file: string;
  readonly scope: "workspace" | "user";
}

/** What a backend's name stands for: the backend a worker runs on, and a named agent's program. */
export interface ResolvedBackend {
  readonly backend: string;
  /** A named agent's line (`--cmd`, `--agent-cmd`). */
  readonly agentCommand?: string;
  /** The named agent's name. */
  readonly agent?: string;
}

/** The user's own config file, for every workspace: beside the user's `prices.yaml`. */
export function userConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(config, "baton", CONFIG_FILE);
}

/** Every named agent, the workspace's over the user's, with where each is kept. */
export async function namedAgentEntries(
  home: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<NamedAgentEntry[]> {
  const file = userConfigFile(env);
  const user = await readUserAgents(file);
  const workspace = (await readWorkspaceConfig(home)).agents ?? {};
  const entries = new Map<string, NamedAgentEntry>();
  for (const [name, agent] of Object.entries(user)) entries.set(name, { name, agent, file, scope: "user" });
  for (const [name, agent] of Object.entries(workspace))
    entries.set(name, { name, agent, file: join(home, CONFIG_FILE), scope: "workspace" });
  return [...entries.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Every named agent by name, the workspace's over the user's. */
export async function loadNamedAgents(
  home: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<NamedAgents> {
  return Object.fromEntries((await namedAgentEntries(home, env)).map((entry) => [entry.name, entry.agent]));
}

/** The user's file holds named agents only: a workspace's default backend is the workspace's own. */
async function readUserAgents(file: string): Promise<NamedAgents> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new BatonError("usage", `${file}: cannot read it: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new BatonError("usage", `${file} is not valid JSON: fix it, or remove it`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new BatonError("usage", `${file} is not a JSON object: fix it, or remove it`);
  const { agents, ...rest } = data as Record<string, unknown>;
  const other = Object.keys(rest)[0];
  if (other !== undefined)
    throw new BatonError(
      "usage",
      `${file}: "${other}" is not read from the user's config, which holds only "agents": move it to a workspace's .baton/config.json`,
    );
  if (agents === undefined) return {};
  return (await import("./agent-schema.js")).parseAgents(agents, file);
}

/** The names a backend may be given by: Baton's backends, then the named agents. */
export const backendChoices = (agents: NamedAgents = {}): string[] => [
  ...BACKEND_NAMES,
  ...Object.keys(agents).sort(),
];

/** The one-line refusal of a backend's name that is neither Baton's nor a named agent's. */
export function unknownBackend(name: string, agents: NamedAgents = {}, whose?: string): BatonError {
  return new BatonError(
    "usage",
    `unknown backend "${name}"${whose ? ` (${whose})` : ""}: choose one of ${backendChoices(agents).join(", ")}`,
  );
}

/** Whether `name` is a backend's or a named agent's. */
export const knownBackend = (name: string, agents: NamedAgents = {}): boolean =>
  isBackendName(name) || Object.hasOwn(agents, name);

/** What `name` stands for: a backend as it is, a named agent as its backend and line; else refused. */
export function resolveBackend(name: string, agents: NamedAgents = {}, whose?: string): ResolvedBackend {
  if (isBackendName(name)) return { backend: name };
  const agent = Object.hasOwn(agents, name) ? agents[name] : undefined;
  if (!agent) throw unknownBackend(name, agents, whose);
  return {
    backend: agent.backend,
    agentCommand: agent.backend === "command" ? agent.cmd : agent.agentCmd,
    agent: name,
  };
}

/**
 * What a spawn's backend stands for, reading the named agents only for a name that is not Baton's. A
 * named agent brings its own line: one given as well (`--cmd`) is refused rather than silently dropped.
 */
export async function spawnBackend(
  name: string,
  home: string | undefined,
  env: NodeJS.ProcessEnv,
  agentCommand: string | undefined,
): Promise<ResolvedBackend> {
  if (isBackendName(name)) return { backend: name };
  const resolved = resolveBackend(name, home === undefined ? {} : await loadNamedAgents(home, env));
  if (agentCommand !== undefined)
    throw new BatonError(
      "usage",
      `backend "${name}" is a named agent with its own program: drop --cmd/--agent-cmd, or give --backend ${resolved.backend} with it`,
    );
  return resolved;
}

/**
 * The MCP tools take no command line: a lead agent must not run programs of its choosing through Baton.
 * `command` and `acp` themselves are refused; a named agent (the person's own choice) is not.
 */
export function refuseCommandLine(name: string | undefined, agents: NamedAgents): void {
  if (name !== "command" && name !== "acp") return;
  const names = Object.keys(agents).sort();
  throw new BatonError(
    "usage",
    `backend "${name}" runs a command line, which the MCP tools do not take: use a named agent of the config (${names.length > 0 ? names.join(", ") : "none yet: a person adds one with baton config --agent NAME --cmd LINE"})`,
  );
}

/** Adds or replaces one of the workspace's named agents; its name and line are checked first. */
export async function setNamedAgent(home: string, name: string, agent: NamedAgent): Promise<NamedAgent> {
  const { checkedAgent } = await import("./agent-schema.js");
  const checked = checkedAgent(name, agent);
  await writeWorkspaceConfig(home, (config) => ({
    ...config,
    agents: { ...config.agents, [name]: checked },
  }));
  return checked;
}

/**
 * Removes one of the workspace's named agents. Refused for a name it does not hold (one in the user's
 * file is edited there), and for the workspace's default backend, which would name nothing then.
 */
export async function removeNamedAgent(
  home: string,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const config = await readWorkspaceConfig(home);
  const file = join(home, CONFIG_FILE);
  if (!config.agents || !Object.hasOwn(config.agents, name)) {
    const user = userConfigFile(env);
    const inUser = Object.hasOwn(await readUserAgents(user), name);
    const held = Object.keys(config.agents ?? {}).sort();
    throw new BatonError(
      "usage",
      inUser
        ? `--remove-agent "${name}": it is the user's, in ${user}: remove it there`
        : `--remove-agent "${name}": ${file} names no such agent (${held.length > 0 ? `its agents: ${held.join(", ")}` : "it names none"})`,
    );
  }
  if (config.backend === name)
    throw new BatonError(
      "usage",
      `--remove-agent "${name}": it is this workspace's default backend: set another first (baton config --backend NAME)`,
    );
  await writeWorkspaceConfig(home, ({ agents = {}, ...rest }) => ({
    ...rest,
    agents: Object.fromEntries(Object.entries(agents).filter(([key]) => key !== name)),
  }));
}
