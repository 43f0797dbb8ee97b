import { sep } from "node:path";
import type { Scope } from "../worker/types.js";

// Many readers, one writer: two writers whose paths overlap never run at the same time.

/** True when one path is the other or contains it. Paths are absolute. */
export function pathsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const [shorter, longer] = a.length < b.length ? [a, b] : [b, a];
  return longer.startsWith(shorter.endsWith(sep) ? shorter : shorter + sep);
}

/**
 * The first path of `scope` that overlaps one of `held`, and the one it overlaps. Scopes of isolated
 * writers (own worktree) are passed as undefined: they never conflict.
 */
export function conflict(
  scope: Scope | undefined,
  held: Scope | undefined,
): { path: string; heldPath: string } | undefined {
  if (scope?.kind !== "write" || held?.kind !== "write") return undefined;
  for (const path of scope.paths) {
    for (const heldPath of held.paths) if (pathsOverlap(path, heldPath)) return { path, heldPath };
  }
  return undefined;
}
