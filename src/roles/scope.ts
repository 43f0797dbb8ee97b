import { resolve } from "node:path";
import type { Role, Scope } from "../worker/types.js";

/**
 * What a role may change unless told otherwise: write paths given → exactly those (resolved against
 * `cwd`); an implementer given none → `cwd`; every other role → read-only. Mirrors the supervisor.
 */
export function defaultScope(
  role: Role | undefined,
  writePaths: readonly string[],
  cwd: string = process.cwd(),
): Scope {
  if (writePaths.length > 0) return { kind: "write", paths: writePaths.map((path) => resolve(cwd, path)) };
  if (role === "implementer") return { kind: "write", paths: [resolve(cwd)] };
  return { kind: "read-only" };
}
