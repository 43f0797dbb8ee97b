import type { NamedAgents } from "../client/named-agents.js";
import { loadNamedAgents, refuseCommandLine } from "../client/named-agents.js";

// The MCP tools take no command line (no `cmd`, no `agentCmd`): a lead agent must not be able to run a
// program of its own choosing through Baton. It may use the named agents the person put in the config
// (`baton config --agent NAME --cmd LINE`), by name, as `backend`; the tools' descriptions list them.

/** The most named agents a tool's description lists (the rest are still usable by name). */
const LISTED = 12;

/** The config's named agents, as the MCP server sees them. */
export class ConfiguredAgents {
  constructor(
    private readonly home: string,
    private readonly env: NodeJS.ProcessEnv,
    /** Those named when the server started: what the descriptions list. */
    readonly listed: NamedAgents = {},
  ) {}

  /** Reads them once for the descriptions; a config that cannot be read lists none (a call says why). */
  static async at(home: string, env: NodeJS.ProcessEnv): Promise<ConfiguredAgents> {
    const listed = await loadNamedAgents(home, env).catch(() => ({}));
    return new ConfiguredAgents(home, env, listed);
  }

  /** As the config says now. */
  current(): Promise<NamedAgents> {
    return loadNamedAgents(this.home, this.env);
  }

  /** Refuses `command` and `acp` (they need a command line) among the backends a call names. */
  async refuseCommandLines(backends: readonly (string | undefined)[]): Promise<void> {
    if (!backends.some((name) => name === "command" || name === "acp")) return;
    const agents = await this.current().catch(() => this.listed);
    for (const name of backends) refuseCommandLine(name, agents);
  }

  /** A sentence for a tool's description: the named agents a `backend` may be, or that there are none. */
  sentence(): string {
    const names = Object.entries(this.listed).map(([name, agent]) => `${name} (${agent.backend})`);
    if (names.length === 0) return " No named agents are configured; command lines are not taken.";
    const more = names.length > LISTED ? `, +${names.length - LISTED} more` : "";
    return ` Named agents (backend): ${names.slice(0, LISTED).join(", ")}${more}; command lines are not taken.`;
  }
}
