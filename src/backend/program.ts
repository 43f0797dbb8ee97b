import { join, resolve } from "node:path";
import { BatonError } from "../errors.js";
import { findOnPath, isExecutableFile, nodeModulesUpFrom } from "./locate.js";

/**
 * The program a caller's command line names (`--cmd`, `--agent-cmd`), found the way the other agents'
 * binaries are: a path (with a `/`) from the cwd, else `PATH`, else a `node_modules/.bin` from the cwd
 * up. Throws one line that says what was looked for and how to fix it.
 */
export function locateProgram(
  program: string | undefined,
  options: {
    readonly env: NodeJS.ProcessEnv;
    readonly cwd: string;
    readonly flag: string;
    readonly backend: string;
  },
): string {
  const { env, cwd, flag, backend } = options;
  if (program === undefined || program === "") {
    throw new BatonError(
      "usage",
      `the ${backend} backend runs the program ${flag} names: give ${flag} "PROGRAM ARGS..."`,
    );
  }
  if (program.includes("/")) {
    const path = resolve(cwd, program);
    if (isExecutableFile(path)) return path;
    throw new BatonError(
      "backend",
      `${flag}: ${path} does not exist or is not executable: give the path of a program (chmod +x it if it is a script)`,
    );
  }
  const found = findOnPath(program, env) ?? inNodeModulesBin(program, cwd);
  if (found) return found;
  throw new BatonError(
    "backend",
    `${flag}: "${program}" was not found on PATH or in node_modules/.bin: install it, or give its path (${flag} "./${program} ...")`,
  );
}

function inNodeModulesBin(program: string, from: string): string | undefined {
  for (const modules of nodeModulesUpFrom(from)) {
    const candidate = join(modules, ".bin", program);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}
