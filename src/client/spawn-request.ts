import { resolve } from "node:path";
import { BatonError } from "../errors.js";
import type { SpawnParams } from "../protocol/messages.js";
import { spawnBackend } from "./named-agents.js";
import type { SpawnOptions } from "./options.js";
import { readWorkspaceConfig } from "./workspace-config.js";

let roles: Promise<typeof import("../roles/index.js")> | undefined;

/**
 * The role templates, which only spawns need: loaded on the first, not at start-up (the commands that
 * only read, such as ls, poll and result, need none of it). One promise for every call, so that spawns
 * issued together reach the supervisor (and get their ids) in the order they were called.
 */
export function spawnCode(): Promise<typeof import("../roles/index.js")> {
  roles ??= import("../roles/index.js");
  return roles;
}

/**
 * The request a spawn sends: the task rendered into its role's template (unless a follow-up, or the
 * caller rendered it). The supervisor validates it (the socket is an edge) and names a wrong field in
 * one line; checking it here too would cost every spawn the schema library's load for nothing.
 */
export async function spawnRequest(
  options: SpawnOptions,
  baseCwd: string,
  env: NodeJS.ProcessEnv,
  /** The run store, whose `config.json` may name the workspace's default backend. */
  home?: string,
): Promise<SpawnParams> {
  const { lens, context, template, ...rest } = options;
  const cwd = resolve(baseCwd, options.cwd ?? ".");
  if (
    options.continues !== undefined &&
    (lens !== undefined || context !== undefined || template !== undefined)
  )
    throw new BatonError(
      "usage",
      "a follow-up continues a thread that has its brief already: give it only the new message (no lens, context or template)",
    );
  // A follow-up's message goes as it is; a new worker's task is rendered into its role's template.
  const templated =
    options.continues === undefined &&
    (options.role !== undefined || lens !== undefined || context !== undefined || template !== undefined);
  const { defaultScope, renderWorkerPrompt } = await spawnCode();
  const prompt =
    options.prompt ??
    (templated
      ? renderWorkerPrompt({
          task: options.task,
          scope: options.readOnly
            ? { kind: "read-only" }
            : defaultScope(options.role, options.write ?? [], cwd),
          ...(options.role ? { role: options.role } : {}),
          ...(lens ? { lens } : {}),
          ...(context ? { context } : {}),
          ...(template ? { template } : {}),
        })
      : undefined);
  // Given none, a new worker runs on the workspace's default backend; a follow-up on its parent's.
  const chosen =
    options.backend ??
    (options.continues === undefined && home !== undefined
      ? (await readWorkspaceConfig(home)).backend
      : undefined);
  // A named agent of the config runs on its backend with its line, as --cmd / --agent-cmd would; its
  // name is the worker's label unless it has one.
  const named =
    chosen === undefined ? undefined : await spawnBackend(chosen, home, env, options.agentCommand);
  return {
    ...withoutUndefined(rest),
    ...(named ? { backend: named.backend } : {}),
    ...(named?.agentCommand ? { agentCommand: named.agentCommand } : {}),
    ...(named?.agent && options.label === undefined ? { label: named.agent } : {}),
    ...(prompt ? { prompt } : {}),
    ...(options.write ? { write: [...options.write] } : {}),
    // A follow-up left without a cwd takes its parent's.
    ...(options.continues !== undefined && options.cwd === undefined ? {} : { cwd }),
    env: stringEnv(env),
  } as SpawnParams;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The environment as the socket carries it: strings only. */
export function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

/**
 * The ids of a spawn of `count` tasks, in order, from each task's outcome; if any was refused, one
 * error that names the first refused task (and how many more were), and the ids that did start.
 */
export function spawnedAll(count: number, settled: readonly PromiseSettledResult<string>[]): string[] {
  const refused = settled.flatMap((s, i) => (s.status === "rejected" ? [{ i, error: s.reason }] : []));
  const ids = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  if (refused.length === 0) return ids;
  const first = refused[0]!;
  if (count === 1) throw first.error;
  const why = first.error instanceof Error ? first.error.message : String(first.error);
  const code = first.error instanceof BatonError ? first.error.code : "usage";
  const others = refused.length > 1 ? ` (and ${refused.length - 1} more refused)` : "";
  const started = ids.length > 0 ? `; started: ${ids.join(" ")}` : "; none started";
  throw new BatonError(code, `task ${first.i + 1} of ${count}: ${why}${others}${started}`);
}
