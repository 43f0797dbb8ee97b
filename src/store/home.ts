import { lstatSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { errnoOf } from "../errors.js";

export const STORE_DIR = ".baton";

/**
 * Where the run store of the workspace containing `cwd` lives: `BATON_HOME` if set, else the nearest
 * `.baton` folder in `cwd` or above it (as git finds `.git`), else `cwd/.baton`.
 */
export function resolveHome(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  if (env.BATON_HOME) return resolve(cwd, env.BATON_HOME);
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, STORE_DIR);
    try {
      lstatSync(candidate);
      return candidate;
    } catch (error) {
      if (errnoOf(error) !== "ENOENT") return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) return join(resolve(cwd), STORE_DIR);
    dir = parent;
  }
}
