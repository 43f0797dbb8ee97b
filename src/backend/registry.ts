import { join } from "node:path";
import { BatonError } from "../errors.js";
import { acpBackend, acpGeneric } from "./acp.js";
import { acpGemini, acpOpencode } from "./acp-presets.js";
import type { Backend } from "./backend.js";
import { claudeBackend } from "./claude.js";
import { codexBackend } from "./codex.js";
import { commandBackend } from "./command.js";
import { geminiBackend } from "./gemini.js";
import { BACKEND_NAMES as NAMES } from "./names.js";

/** Backends by name; the core finds them here and knows nothing else about any of them. */
const BACKENDS: ReadonlyMap<string, Backend> = new Map([
  [codexBackend.name, codexBackend],
  [claudeBackend.name, claudeBackend],
  [geminiBackend.name, geminiBackend],
  ...[acpGeneric, acpGemini, acpOpencode].map((preset) => [preset.name, acpBackend(preset)] as const),
  [commandBackend.name, commandBackend],
]);

export const BACKEND_NAMES: readonly string[] = NAMES;
if (BACKEND_NAMES.join() !== [...BACKENDS.keys()].join())
  throw new Error("src/backend/names.ts does not list the registry's backends in its order");

export function backendNamed(name: string): Backend {
  const backend = BACKENDS.get(name);
  if (!backend) {
    throw new BatonError("usage", `unknown backend "${name}": choose one of ${BACKEND_NAMES.join(", ")}`);
  }
  return backend;
}

/** Where a backend keeps what its threads need (the `agentStateDir` of a launch), in a run store. */
export function agentStateDir(home: string, backend: Backend): string {
  return join(home, "agents", backend.name);
}

/**
 * Whether `backend` can continue `threadId` on this machine: it resumes threads, and its session
 * files (found with `env`, the agent's environment) hold the thread with its task.
 */
export function continuesHere(
  backend: Backend,
  threadId: string,
  env: Readonly<Record<string, string>>,
  home: string,
): boolean {
  if (!backend.canResume) return false;
  return backend.hasThread?.(threadId, { env, agentStateDir: agentStateDir(home, backend) }) ?? true;
}

/**
 * How a worker's recorded thread goes on here: "continue" (the agent is told to go on), "resend" (the
 * thread is here but never took in `followUp`, the worker's own text as a follow-up: it is sent in the
 * thread again), or undefined (not here, or without its task: the worker runs from its prompt again).
 */
export function threadHere(
  backend: Backend,
  threadId: string,
  env: Readonly<Record<string, string>>,
  home: string,
  followUp: string | undefined,
  /** How many messages the thread held as the follow-up was sent, where that was recorded. */
  before?: number,
): "continue" | "resend" | undefined {
  if (!continuesHere(backend, threadId, env, home)) return undefined;
  if (followUp === undefined || !backend.holdsMessage) return "continue";
  const where = { env, agentStateDir: agentStateDir(home, backend) };
  return backend.holdsMessage(threadId, followUp, where, before) ? "continue" : "resend";
}

/** How many messages the thread holds here, as a follow-up is sent in it (see `threadHere`). */
export function threadMessagesHere(
  backend: Backend,
  threadId: string,
  env: Readonly<Record<string, string>>,
  home: string,
): number | undefined {
  return backend.threadMessages?.(threadId, { env, agentStateDir: agentStateDir(home, backend) });
}
