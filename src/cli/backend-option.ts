import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidArgumentError } from "commander";
import { BACKEND_NAMES, isBackendName } from "../backend/names.js";
import { userConfigFile } from "../client/named-agents.js";
import { CONFIG_FILE } from "../client/workspace-config.js";
import { readStoreFileSync } from "../store/no-follow.js";

// `baton spawn --backend NAME` takes Baton's backends and the config's named agents. Commander refuses
// any other name while it reads the flags, in its one line that lists the allowed names; the named
// agents are read here by name only (and only for a name that is not Baton's): the spawn itself checks
// the config whole, and says so in one line if it is damaged.

/** The names of the named agents in `file`'s `agents`; undefined when they cannot be told. */
function namesIn(text: string | undefined): string[] | undefined {
  if (text === undefined) return [];
  try {
    const agents = (JSON.parse(text) as { agents?: unknown } | null)?.agents;
    if (agents === undefined) return [];
    return typeof agents === "object" && agents !== null ? Object.keys(agents) : undefined;
  } catch {
    return undefined;
  }
}

function userConfigText(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return readFileSync(userConfigFile(env), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** A commander parser for `--backend`: a backend's name, or a named agent's of the config at `home()`. */
export function backendName(home: () => string, env: NodeJS.ProcessEnv = process.env) {
  return (value: string): string => {
    if (isBackendName(value)) return value;
    let agents: string[] | undefined;
    try {
      const workspace = namesIn(readStoreFileSync(home(), join(home(), CONFIG_FILE)));
      const user = namesIn(userConfigText(env));
      agents = workspace && user ? [...new Set([...workspace, ...user])].sort() : undefined;
    } catch {
      agents = undefined;
    }
    // A config that cannot be read lets the name through: the spawn says what is wrong with it.
    if (agents === undefined || agents.includes(value)) return value;
    throw new InvalidArgumentError(`Allowed choices are ${[...BACKEND_NAMES, ...agents].join(", ")}.`);
  };
}
