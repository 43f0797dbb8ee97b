import { type Command, Option } from "commander";
import {
  type ContextPack,
  contextPackFromFlags,
  loadContextPack,
  mergeContextPacks,
} from "../context/index.js";
import { BatonError } from "../errors.js";
import { loadTemplate, templateOverrides } from "../roles/index.js";
import { ROLES, type Role } from "../worker/types.js";

const collect = (value: string, all: string[] = []) => [...all, value];

/** Adds the context pack and template flags that `spawn` and `run` share. */
export function addPromptOptions(command: Command): Command {
  return command
    .option("--context <file>", "a context pack (YAML or Markdown) rendered into every worker prompt")
    .option("--goal <text>", "context pack: what good looks like")
    .option("--non-goal <text>", "context pack: what not to do (repeatable)", collect)
    .option("--constraint <text>", "context pack: a constraint (repeatable)", collect)
    .option("--pointer <path>", "context pack: a key file or folder, which must exist (repeatable)", collect)
    .option("--decision <text>", "context pack: a prior decision (repeatable)", collect)
    .option("--success <text>", "context pack: how we know it is done")
    .addOption(
      new Option(
        "--template <role=file>",
        `replace a role's template with your file (repeatable); roles: ${ROLES.join(", ")}`,
      ).argParser(collect),
    );
}

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
  const fromFile = typeof opts.context === "string" ? await loadContextPack(opts.context, cwd) : undefined;
  const fromFlags = contextPackFromFlags(
    {
      ...(typeof opts.goal === "string" ? { goal: opts.goal } : {}),
      ...(Array.isArray(opts.nonGoal) ? { nonGoal: opts.nonGoal as string[] } : {}),
      ...(Array.isArray(opts.constraint) ? { constraint: opts.constraint as string[] } : {}),
      ...(Array.isArray(opts.pointer) ? { pointer: opts.pointer as string[] } : {}),
      ...(Array.isArray(opts.decision) ? { decision: opts.decision as string[] } : {}),
      ...(typeof opts.success === "string" ? { success: opts.success } : {}),
    },
    cwd,
  );
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
  return { context: mergeContextPacks(fromFile, fromFlags), templates };
}
