import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The model codex runs when not given `-m`: the top-level `model = "..."` of `$CODEX_HOME/config.toml`
 * (before its first table). Undefined when the file names none: codex then picks its own default,
 * which Baton cannot know before the rollout log says it.
 */
export function codexConfigModel(env: Readonly<Record<string, string>>): string | undefined {
  const home = env.CODEX_HOME || join(env.HOME || homedir(), ".codex");
  let text: string;
  try {
    text = readFileSync(join(home, "config.toml"), "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    if (/^\s*\[/.test(line)) return undefined; // tables begin: no top-level key after this
    const found = /^\s*model\s*=\s*(["'])([^"'\n]{1,200})\1\s*(#.*)?$/.exec(line);
    if (found) return found[2];
  }
  return undefined;
}
