import { BatonError } from "../errors.js";
import { ROLES, type Role } from "../worker/types.js";

// Which agent runs each worker of a run. A run has one backend (`--backend`, else the workspace's
// default, else codex); a lens or a role may name another, with its own model. Kept free of heavy
// imports: the CLI's flag parsers use it to read `--lens security=claude` while it builds its help.

/** An agent a worker runs on: a backend and, when given, the model it asks for. */
export interface AgentChoice {
  readonly backend: string;
  /** Absent: the run's `--model` if the backend is the run's own, else the backend's default. */
  readonly model?: string;
}

/**
 * Who a per-role choice applies to: a worker role, or `synthesis`, the judgement workers (merge, condense,
 * select, brief) that see only the other workers' answers.
 */
export const ROLE_KEYS = [...ROLES, "synthesis"] as const;
export type RoleKey = (typeof ROLE_KEYS)[number];

const NAME = /^[a-z][a-z0-9_-]{0,63}$/;

/**
 * `BACKEND` or `BACKEND:MODEL` (the model may itself hold `:` or `/`), e.g. `claude:claude-sonnet-4-5`.
 * A backend's own name may hold a `:` (`acp:gemini`): given the known `names`, the longest that starts
 * the text is the backend; without them (while the CLI builds its flags), the first `:` ends it, and
 * {@link withNames} reads it again once the names are loaded.
 */
export function parseAgent(text: string, flag: string, names: readonly string[] = []): AgentChoice {
  const given = text.trim();
  const known = [...names]
    .sort((a, b) => b.length - a.length)
    .find((name) => given === name || given.startsWith(`${name}:`));
  const at = known ? (given === known ? -1 : known.length) : given.indexOf(":");
  const backend = (at < 0 ? given : given.slice(0, at)).trim();
  const model = at < 0 ? undefined : given.slice(at + 1).trim();
  if (backend !== known && !NAME.test(backend)) {
    throw new BatonError(
      "usage",
      `${flag} "${text}": expected a backend name, or BACKEND:MODEL (e.g. claude or claude:claude-sonnet-4-5)`,
    );
  }
  if (model === "") throw new BatonError("usage", `${flag} "${text}": the model after ":" is empty`);
  return model === undefined ? { backend } : { backend, model };
}

/** An agent parsed without the backends' names, read again with them (`acp` + `gemini` is `acp:gemini`). */
export function withNames(agent: AgentChoice, flag: string, names: readonly string[]): AgentChoice {
  return parseAgent(
    agent.model === undefined ? agent.backend : `${agent.backend}:${agent.model}`,
    flag,
    names,
  );
}

/** `KEY=BACKEND[:MODEL]`, or a plain `KEY` (no agent of its own: it takes the run's). */
export function parseKeyed(
  text: string,
  flag: string,
  names: readonly string[] = [],
): { key: string; agent?: AgentChoice } {
  const at = text.indexOf("=");
  if (at < 0) return { key: text.trim() };
  const key = text.slice(0, at).trim();
  if (key === "") throw new BatonError("usage", `${flag} "${text}": name what comes before "="`);
  return { key, agent: parseAgent(text.slice(at + 1), flag, names) };
}

/** `ROLE=BACKEND[:MODEL]`, with ROLE one of {@link ROLE_KEYS}. */
export function parseRoleAgent(
  text: string,
  names: readonly string[] = [],
): { role: RoleKey; agent: AgentChoice } {
  const { key, agent } = parseKeyed(text, "--role-backend", names);
  if (!ROLE_KEYS.includes(key as RoleKey)) {
    throw new BatonError(
      "usage",
      `--role-backend "${text}": "${key}" is not a role: choose from ${ROLE_KEYS.join(", ")}`,
    );
  }
  if (!agent) {
    throw new BatonError("usage", `--role-backend "${text}": say which backend, e.g. ${key}=claude`);
  }
  return { role: key as RoleKey, agent };
}

/** The role key of a worker: its role, `synthesis` for a judgement worker, or none. */
export function roleKeyOf(ask: { readonly role?: Role; readonly body?: string }): RoleKey | undefined {
  return ask.role ?? (ask.body !== undefined ? "synthesis" : undefined);
}
