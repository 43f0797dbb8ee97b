import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

// Git run on a worker's repository for a reader of its work (the web dashboard's changes), with the
// same guard as the git Baton runs for --isolate (supervisor/isolation.ts): a worker may have written
// the repository's config, and some keys name a program git would then run. No system or global
// config (the environment below), and on the command line, which wins over every file, each key that
// could run something switched off. Callers use only commands that read objects (rev-parse, diff of two
// commits, cat-file): none of them runs a filter, textconv or external diff on a working tree.

/** Command-line settings: they win over any config file, the repository's and worktree's included. */
export const SAFE_CONFIG = [
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "protocol.allow=never",
  "submodule.recurse=false",
  "commit.gpgSign=false",
  "safe.bareRepository=explicit",
].flatMap((setting) => ["-c", setting]);

/** The caller's environment without its GIT_* variables, and without system or global config. */
export function gitEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("GIT_")));
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ATTR_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_NO_LAZY_FETCH: "1",
    GIT_OPTIONAL_LOCKS: "0",
  };
}

/** Runs git in `cwd` with no config a worker could reach acting; resolves with stdout (bytes). */
export async function safeGit(
  cwd: string,
  args: readonly string[],
  options: { readonly maxBuffer?: number } = {},
): Promise<Buffer> {
  const { stdout } = await run("git", ["-C", cwd, ...SAFE_CONFIG, ...args], {
    maxBuffer: options.maxBuffer ?? 16 * 1024 * 1024,
    env: gitEnv(),
    encoding: "buffer",
  });
  return stdout;
}
