import { z } from "zod";
import { splitCommandLine } from "../backend/argv.js";
import { BACKEND_NAMES, isBackendName } from "../backend/names.js";
import { BatonError } from "../errors.js";
import { MAX_PATH_CHARS } from "../protocol/limits.js";

// A named agent of the config (`"agents": {"lint": {"backend": "command", "cmd": "..."}}`), checked
// with zod where it enters: `baton config --agent` and a config file read back from disk. Loaded only
// where a config names agents, so that a spawn on a built-in backend never loads the schema library.

/** A program the person named once, run as a worker wherever a backend's name is taken. */
export type NamedAgent =
  | {
      /** Any program (the `command` backend), as `--cmd LINE` runs it. */
      readonly backend: "command";
      readonly cmd: string;
    }
  | {
      /** Any ACP agent (the `acp` backend), as `--agent-cmd LINE` runs it. */
      readonly backend: "acp";
      readonly agentCmd: string;
    };

/** Named agents by name. */
export type NamedAgents = Readonly<Record<string, NamedAgent>>;

/** The most agents one config file may name. */
export const MAX_AGENTS = 64;

const NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const NAME_RULE = "a name is a lowercase letter, then up to 31 lowercase letters, digits, - or _";

const agentName = z
  .string()
  .regex(NAME, NAME_RULE)
  .refine(
    (name) => !isBackendName(name),
    `that is a backend's own name (${BACKEND_NAMES.join(", ")}): choose another`,
  );

const line = z
  .string()
  .min(1, "is empty: give the program and its arguments")
  .max(MAX_PATH_CHARS, `is longer than ${MAX_PATH_CHARS} characters`);

const agentSchema = z.discriminatedUnion(
  "backend",
  [
    z.strictObject({ backend: z.literal("command"), cmd: line }),
    z.strictObject({ backend: z.literal("acp"), agentCmd: line }),
  ],
  { error: 'must be {"backend": "command", "cmd": LINE} or {"backend": "acp", "agentCmd": LINE}' },
);

const agentsSchema = z
  .record(z.string(), z.unknown())
  .refine((agents) => Object.keys(agents).length <= MAX_AGENTS, `name at most ${MAX_AGENTS} agents`);

/** The agent's program and arguments, as its flag takes them. */
export const agentLine = (agent: NamedAgent): string =>
  agent.backend === "command" ? agent.cmd : agent.agentCmd;

/** The flag a person gives the agent's line with. */
export const lineFlag = (agent: NamedAgent): "--cmd" | "--agent-cmd" =>
  agent.backend === "command" ? "--cmd" : "--agent-cmd";

/** Refuses a name that cannot be an agent's, in one line naming `flag`. */
export function checkAgentName(name: string, flag = "--agent"): void {
  const parsed = agentName.safeParse(name);
  if (!parsed.success)
    throw new BatonError("usage", `${flag} ${JSON.stringify(name)}: ${message(parsed.error)}`);
}

/**
 * Checks one agent as `baton config` is given it: its name, and its line split as a spawn would split
 * it (a shell line refused now, not at its first spawn). The program is found only at a spawn, from
 * the worker's cwd.
 */
export function checkedAgent(name: string, agent: NamedAgent): NamedAgent {
  checkAgentName(name);
  const parsed = agentSchema.safeParse(agent);
  if (!parsed.success)
    throw new BatonError("usage", `${lineFlag(agent)}: the command line ${message(parsed.error)}`);
  splitCommandLine(agentLine(parsed.data), lineFlag(parsed.data));
  return parsed.data;
}

/**
 * The `agents` of a config file read back from disk, each checked as {@link checkedAgent} checks it.
 * Throws one line naming the file, the agent and what to do.
 */
export function parseAgents(value: unknown, file: string): NamedAgents {
  const refuse = (where: string, what: string) =>
    new BatonError(
      "usage",
      `${file}: ${where}${what}: fix it, or remove it (baton config --remove-agent NAME for this workspace's)`,
    );
  const all = agentsSchema.safeParse(value);
  if (!all.success) throw refuse("agents ", message(all.error));
  const agents: Record<string, NamedAgent> = {};
  for (const [name, given] of Object.entries(all.data)) {
    const named = agentName.safeParse(name);
    if (!named.success) throw refuse(`agents.${JSON.stringify(name)}: `, message(named.error));
    const parsed = agentSchema.safeParse(given);
    if (!parsed.success) throw refuse(`agents.${name} `, message(parsed.error));
    try {
      splitCommandLine(agentLine(parsed.data), lineFlag(parsed.data));
    } catch (error) {
      throw refuse(`agents.${name}: `, (error as Error).message);
    }
    agents[name] = parsed.data;
  }
  return agents;
}

/** A zod error as the end of one line: the first issue, with the field it is about. */
function message(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "is not valid";
  if (issue.code === "unrecognized_keys")
    return `has ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}, which an agent does not take (backend, and cmd or agentCmd)`;
  const where = issue.path.length > 0 ? `${issue.path.join(".")} ` : "";
  return `${where}${issue.message}`.replace(/\s+/g, " ");
}
