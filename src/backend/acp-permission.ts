import { realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { isWithin } from "../confine/paths.js";
import { pathsOf, type ToolCallInfo } from "./acp-wire.js";

// An ACP agent asks its client before a tool that needs approval: Baton answers from the worker's
// scope, without a person. Baton's sandbox holds the agent to the same scope underneath (the floor);
// this keeps a refused call from ever starting, and says why to the model.

/** What the worker may do, as the permission answers need it. */
export interface PermissionScope {
  /** The agent's working folder: relative paths in a request are taken from it. */
  readonly cwd: string;
  /** A writer's paths (real paths, files or folders); empty for a reader. */
  readonly writePaths: readonly string[];
  readonly writer: boolean;
  /** The web is on (`--search`). */
  readonly search: boolean;
}

export interface PermissionDecision {
  readonly allowed: boolean;
  /** Why, in a few words (kept in the answer's `_meta`, shown by `baton logs`). */
  readonly why: string;
}

/** Kinds that only look: allowed to every worker. */
const LOOKING = new Set(["read", "search", "think"]);
/** Kinds that change files: a writer's, each path inside its scope. */
const CHANGING = new Set(["edit", "delete", "move"]);

/**
 * The answer to one permission request: reading, searching and thinking are allowed to every worker;
 * the web (`fetch`) only with `--search`; a reader is refused every write and every command; a writer
 * may change files inside its scope only (every path the call names, taken from the worker's cwd and
 * with links resolved) and run commands (Baton's sandbox holds them to its scope); a mode switch, or a
 * tool of a kind Baton cannot tell (`other`), is refused.
 */
export function decide(call: ToolCallInfo, scope: PermissionScope): PermissionDecision {
  const kind = call.kind ?? "other";
  if (LOOKING.has(kind)) return { allowed: true, why: `${kind} is allowed to every worker` };
  if (kind === "fetch")
    return scope.search
      ? { allowed: true, why: "the web is on (--search)" }
      : { allowed: false, why: "the web is off for this worker (--search turns it on)" };
  if (kind === "execute")
    return scope.writer
      ? { allowed: true, why: "a writer runs commands inside Baton's sandbox" }
      : { allowed: false, why: "a reader runs no command" };
  if (CHANGING.has(kind)) {
    if (!scope.writer) return { allowed: false, why: "a reader changes no file" };
    const outside = pathsOf(call)
      .map((path) => realish(isAbsolute(path) ? path : resolve(scope.cwd, path)))
      .filter((path) => !scope.writePaths.some((root) => isWithin(path, root)));
    return outside.length === 0
      ? { allowed: true, why: "inside the worker's scope" }
      : { allowed: false, why: `${outside.join(", ")} is outside the worker's scope` };
  }
  if (kind === "switch_mode") return { allowed: false, why: "Baton sets the agent's mode" };
  return { allowed: false, why: `Baton cannot tell what a tool of kind "${kind}" does` };
}

/** The option to pick for `decision`: the once-only kind first (Baton answers each call on its own). */
export function optionFor(
  options: readonly { readonly optionId: string; readonly kind: string }[],
  allowed: boolean,
): string | undefined {
  const order = allowed ? ["allow_once", "allow_always"] : ["reject_once", "reject_always"];
  for (const kind of order) {
    const option = options.find((o) => o.kind === kind);
    if (option) return option.optionId;
  }
  return undefined;
}

/** `path` with the links of its deepest existing folder resolved (the rest may not exist yet). */
function realish(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realish(parent), basename(path));
  }
}
