import type { ContextFlags, ContextPack } from "../context/index.js";
import { BatonError } from "../errors.js";
import { loadTemplate, templateOverrides } from "../roles/load.js";
import { ROLES, type Role } from "../worker/types.js";

// The flags are declared in prompt-options.ts; reading what they name needs the context and role code.

export interface PromptSettings {
  readonly context: ContextPack | undefined;
  readonly templates: Partial<Record<Role, string>>;
}

/** Reads the context pack and templates the flags name. Templates in `<home>/templates/` apply too. */
export async function promptSettings(
  opts: Record<string, unknown>,
  cwd: string,
  home: string,
): Promise<PromptSettings> {
  const context = await contextSettings(opts, cwd);
  const templates: Partial<Record<Role, string>> = {};
  for (const [role, file] of Object.entries(await templateOverrides(home)) as [Role, string][]) {
    templates[role] = await loadTemplate(role, file, cwd);
  }
  for (const pair of (opts.template as string[] | undefined) ?? []) {
    const [role, file] = pair.split(/=(.*)/s);
    if (!role || !file || !(ROLES as readonly string[]).includes(role)) {
      throw new BatonError(
        "usage",
        `--template takes ROLE=FILE with a role of ${ROLES.join(", ")}, got "${pair}"`,
      );
    }
    templates[role as Role] = await loadTemplate(role as Role, file, cwd);
  }
  return { context, templates };
}

/**
 * The context pack of `--context` and the pack flags. The context code (a YAML parser, a schema) is
 * loaded only when one of them is given: most spawns have none.
 */
async function contextSettings(opts: Record<string, unknown>, cwd: string): Promise<ContextPack | undefined> {
  const flags: ContextFlags = {
    ...(typeof opts.goal === "string" ? { goal: opts.goal } : {}),
    ...(Array.isArray(opts.nonGoal) ? { nonGoal: opts.nonGoal as string[] } : {}),
    ...(Array.isArray(opts.constraint) ? { constraint: opts.constraint as string[] } : {}),
    ...(Array.isArray(opts.pointer) ? { pointer: opts.pointer as string[] } : {}),
    ...(Array.isArray(opts.decision) ? { decision: opts.decision as string[] } : {}),
    ...(typeof opts.success === "string" ? { success: opts.success } : {}),
  };
  if (typeof opts.context !== "string" && Object.keys(flags).length === 0) return undefined;
  const { contextPackFromFlags, loadContextPack, mergeContextPacks } = await import("../context/index.js");
  const fromFile = typeof opts.context === "string" ? await loadContextPack(opts.context, cwd) : undefined;
  return mergeContextPacks(fromFile, contextPackFromFlags(flags, cwd));
}
