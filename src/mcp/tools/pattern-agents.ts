import { z } from "zod";
import { PATTERN_DEFAULTS } from "../../pattern/defaults.js";
import { type AgentChoice, type PatternRunOptions, ROLE_KEYS } from "../../pattern/index.js";
import { name } from "./limits.js";

// `run_pattern`'s backends: the run's, a review lens's and a role's, each a backend and maybe a model.

const BACKENDS =
  "codex, claude, gemini, acp:gemini, acp:opencode, or a named agent of the config (listed in the tool's description)";

/** A backend and, optionally, its model: which agent runs a lens's or a role's workers. */
const agent = {
  backend: name().min(1).describe(BACKENDS),
  model: name().min(1).optional().describe("the model it asks for (default: the backend's own)"),
};

/** The input fields that say which agents run the pattern's workers. */
export function agentFields(lensIds: [string, ...string[]]) {
  const lens = z.union([
    z.enum(lensIds),
    z.strictObject({ lens: z.enum(lensIds), ...agent }).describe("a lens on a backend of its own"),
  ]);
  return {
    lenses: z
      .array(lens)
      .min(2)
      .max(4)
      .optional()
      .describe(
        'review: 2 to 4 lenses, each an id or {"lens", "backend", "model"?} to run it on another backend',
      ),
    backend: name()
      .min(1)
      .optional()
      .describe(
        `every worker's backend unless its lens or role names another: ${BACKENDS} (default: the workspace's)`,
      ),
    model: name().min(1).optional().describe("the model of the workers on the run's backend"),
    roleBackends: z
      .partialRecord(z.enum(ROLE_KEYS), z.strictObject(agent))
      .optional()
      .describe(
        'a backend per role, e.g. {"implementer": {"backend": "claude"}}; "synthesis" is the judgement workers',
      ),
  };
}

type Given = { readonly backend: string; readonly model?: string | undefined };

/** What of a call's arguments says which agents run it. */
interface AgentArgs {
  readonly lenses?: readonly (string | ({ readonly lens: string } & Given))[] | undefined;
  readonly backend?: string | undefined;
  readonly model?: string | undefined;
  readonly roleBackends?: Readonly<Partial<Record<string, Given>>> | undefined;
}

const choice = ({ backend, model }: Given): AgentChoice => ({ backend, ...(model ? { model } : {}) });

/** The run's backend and model, and the agent of each role that names one. */
export function agentsOf(args: AgentArgs): Pick<PatternRunOptions, "backend" | "model" | "roleAgents"> {
  const roleAgents = Object.fromEntries(
    Object.entries(args.roleBackends ?? {}).flatMap(([role, given]) =>
      given ? [[role, choice(given)]] : [],
    ),
  );
  return {
    ...(args.backend ? { backend: args.backend } : {}),
    ...(args.model ? { model: args.model } : {}),
    ...(Object.keys(roleAgents).length > 0 ? { roleAgents } : {}),
  };
}

/** Every backend a call names: the run's, each lens's and each role's. */
export function backendsOf(args: AgentArgs): (string | undefined)[] {
  return [
    args.backend,
    ...(args.lenses ?? []).map((l) => (typeof l === "string" ? undefined : l.backend)),
    ...Object.values(args.roleBackends ?? {}).map((given) => given?.backend),
  ];
}

/** Review's lenses, and the agent of each lens given as `{"lens", "backend"}` (null: the run's). */
export function lensesOf(args: AgentArgs): { lenses: readonly string[]; agents?: (AgentChoice | null)[] } {
  if (!args.lenses) return { lenses: PATTERN_DEFAULTS.review.lenses };
  const lenses = args.lenses.map((l) => (typeof l === "string" ? l : l.lens));
  const agents = args.lenses.map((l) => (typeof l === "string" ? null : choice(l)));
  return agents.some((a) => a !== null) ? { lenses, agents } : { lenses };
}
