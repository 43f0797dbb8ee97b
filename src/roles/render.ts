import type { ContextPack } from "../context/pack.js";
import { renderContextPack } from "../context/render.js";
import { scopeLine, WORKER_PREAMBLE } from "../worker/prompt.js";
import type { Role, Scope } from "../worker/types.js";
import { describeLens } from "./lenses.js";
import { BUILT_IN_TEMPLATES } from "./templates.js";

/** What goes into a worker's prompt. */
export interface WorkerPromptInput {
  /** Picks the built-in template; with neither role nor template the prompt is just scope and task. */
  readonly role?: Role;
  readonly task: string;
  readonly scope: Scope;
  /** Lens ids from `LENSES` (comma-separated) or free text; "any" when absent. */
  readonly lens?: string;
  readonly context?: ContextPack;
  /** A template to fill instead of the role's built-in one, as {@link loadTemplate} returns it. */
  readonly template?: string;
}

const PLACEHOLDER = /\{\{\s*(task|scope|lens|context)\s*\}\}/g;

/**
 * The full prompt: the worker preamble, then the template with `{{task}}`, `{{scope}}`, `{{lens}}` and
 * `{{context}}` filled in, then the context pack if the template had no place for it. Other `{{...}}`
 * are kept as written, since they may be the user's own text.
 */
export function renderWorkerPrompt(input: WorkerPromptInput): string {
  const context = input.context ? renderContextPack(input.context) : "";
  const template = input.template ?? (input.role ? BUILT_IN_TEMPLATES[input.role] : undefined);
  if (template === undefined) {
    // Exactly the prompt `workerPrompt` gives, so a bare spawn reads the same as before.
    const bare = `${WORKER_PREAMBLE}\n${scopeLine(input.scope)}\nTASK: ${input.task}\n`;
    return context ? `${bare}${context}\n` : bare;
  }

  const values: Record<string, string> = {
    task: input.task,
    scope: scopeLine(input.scope).replace(/^SCOPE:\s*/, ""),
    lens: input.lens?.trim() ? describeLens(input.lens) : "any",
    context,
  };
  const body = withoutPreamble(template)
    .split("\n")
    // A line holding only an empty placeholder would leave a stray blank line.
    .filter((line) => !/^\s*\{\{\s*context\s*\}\}\s*$/.test(line) || context !== "")
    .join("\n")
    .replace(PLACEHOLDER, (_, name: string) => values[name] ?? "")
    .trim();
  const placed = /\{\{\s*context\s*\}\}/.test(template);
  return `${WORKER_PREAMBLE}\n${body}${context && !placed ? `\n${context}` : ""}\n`;
}

// Templates copied from the guide start with the preamble, or its first line; it is added once, here.
function withoutPreamble(template: string): string {
  const text = template.replace(/^\s+/, "");
  if (text.startsWith(WORKER_PREAMBLE)) return text.slice(WORKER_PREAMBLE.length);
  return text.replace(/^CONTEXT: WORKER[ \t]*(?:\r?\n|$)/, "");
}
