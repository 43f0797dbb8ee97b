import type { NamedAgent, NamedAgentEntry } from "../../client/named-agents.js";
import { BatonError } from "../../errors.js";
import { terminalText } from "../../render/terminal-text.js";

// `baton config --agent NAME --cmd LINE | --agent-cmd LINE`, `--remove-agent NAME`, and the agents in
// what `baton config` shows: flags read here, everything else done by the library (client/named-agents).

/** The flags of `baton config` that name agents. */
export interface AgentFlags {
  readonly agent?: string;
  readonly cmd?: string;
  readonly agentCmd?: string;
  readonly removeAgent?: string;
}

/** Whether any agent flag was given. */
export const givesAgent = (opts: AgentFlags): boolean =>
  opts.agent !== undefined ||
  opts.cmd !== undefined ||
  opts.agentCmd !== undefined ||
  opts.removeAgent !== undefined;

/** Adds, replaces or removes a named agent of the workspace, as the flags say. */
export async function configureAgents(home: string, opts: AgentFlags): Promise<void> {
  const { removeNamedAgent, setNamedAgent } = await import("../../client/named-agents.js");
  const { prepareHome } = await import("../../store/open.js");
  if (opts.removeAgent !== undefined) {
    if (opts.agent !== undefined || opts.cmd !== undefined || opts.agentCmd !== undefined)
      throw new BatonError("usage", "--remove-agent takes no --agent, --cmd or --agent-cmd: give it alone");
    await prepareHome(home);
    return removeNamedAgent(home, opts.removeAgent);
  }
  if (opts.agent === undefined)
    throw new BatonError(
      "usage",
      "--cmd and --agent-cmd name a named agent's program here: give --agent NAME with it (or use them on spawn and run)",
    );
  if (opts.cmd !== undefined && opts.agentCmd !== undefined)
    throw new BatonError(
      "usage",
      "--cmd (any program) and --agent-cmd (an ACP agent) exclude each other: give one",
    );
  const agent: NamedAgent | undefined =
    opts.cmd !== undefined
      ? { backend: "command", cmd: opts.cmd }
      : opts.agentCmd !== undefined
        ? { backend: "acp", agentCmd: opts.agentCmd }
        : undefined;
  if (!agent)
    throw new BatonError(
      "usage",
      `--agent ${JSON.stringify(opts.agent)} needs its program: --cmd LINE (any program) or --agent-cmd LINE (an ACP agent)`,
    );
  await prepareHome(home);
  await setNamedAgent(home, opts.agent, agent);
}

/** The agents as `baton config --json` shows them, by name. */
export function agentsJson(entries: readonly NamedAgentEntry[]): Record<string, unknown> {
  return Object.fromEntries(entries.map(({ name, agent, scope, file }) => [name, { ...agent, scope, file }]));
}

/** The agents as `baton config` shows them: a line each, under the other settings. */
export function agentsText(entries: readonly NamedAgentEntry[]): string {
  if (entries.length === 0)
    return "agents        none (name one with baton config --agent NAME --cmd LINE, or --agent-cmd LINE for an ACP agent)\n";
  const width = Math.max(...entries.map((entry) => entry.name.length));
  return entries
    .map(({ name, agent, scope, file }, index) => {
      const line = agent.backend === "command" ? agent.cmd : agent.agentCmd;
      const where = scope === "user" ? `  (the user's, in ${file})` : "";
      const head = index === 0 ? "agents        " : "              ";
      return `${head}${name.padEnd(width)}  ${agent.backend.padEnd(7)}  ${terminalText(line)}${where}\n`;
    })
    .join("");
}
