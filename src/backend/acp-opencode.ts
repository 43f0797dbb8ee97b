import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { BatonError } from "../errors.js";
import type { AcpPreset } from "./acp.js";
import { makeStoreDirs, noteHome, threadHome, writeStoreFile } from "./acp-homes.js";
import { findOnPath, isExecutableFile, nodeModulesUpFrom } from "./locate.js";

const OPENCODE_HINT =
  "install it with `npm install -g opencode-ai`, or point Baton at it with --bin PATH or BATON_OPENCODE_BIN";

/**
 * Baton's part of opencode's config: its global config file in the thread's home, under the user's
 * own (`OPENCODE_CONFIG`, `OPENCODE_CONFIG_CONTENT`: the provider and model). No update check, no
 * sharing, no snapshot (a shadow git copy of the workspace in every new home), and a refused tool call
 * does not end the turn: without `continue_loop_on_deny`, opencode stops at the first refusal and ends
 * the turn with no answer, which Baton would take for a broken turn and run again.
 */
export const OPENCODE_SETTINGS = {
  autoupdate: false,
  share: "disabled",
  snapshot: false,
  experimental: { continue_loop_on_deny: true },
} as const;

/**
 * What opencode's dependency install looks for in a config folder before it runs `npm install` there
 * (the `@opencode-ai/plugin` package, fetched from the npm registry into every new home): a
 * `node_modules` folder and a lock that names the package. With both, it has nothing to do.
 */
const INSTALLED_LOCK = {
  lockfileVersion: 3,
  packages: { "": { dependencies: { "@opencode-ai/plugin": "*" } } },
};

/**
 * The worker's permission rules (`OPENCODE_PERMISSION`, which opencode applies over every config):
 * every tool asks Baton, which answers from the worker's scope, except those that only read, and those
 * no worker gets at all (not even offered to the model): sub-agents (`task`), skills, questions to a
 * user who is not there, the web unless `--search`, and for a reader every tool that edits or runs a
 * command. A path outside the cwd is no question of its own (`external_directory`): reading is open to
 * every worker, and an edit asks with its paths.
 */
export function opencodePermission(options: { readonly writer: boolean; readonly search: boolean }) {
  const write = options.writer ? "ask" : "deny";
  const web = options.search ? "ask" : "deny";
  return {
    "*": "ask",
    read: "allow",
    glob: "allow",
    grep: "allow",
    list: "allow",
    todowrite: "allow",
    todoread: "allow",
    external_directory: "allow",
    edit: write,
    bash: write,
    webfetch: web,
    websearch: web,
    codesearch: web,
    task: "deny",
    skill: "deny",
    question: "deny",
  };
}

/**
 * `opencode acp`. Each thread has its own home in the run store (`homes/<id>`: opencode's config,
 * data with its session database, state and cache, as XDG folders), where `session/load` finds the
 * session again; Baton notes which home holds it (`sessions/<session id>`). The workspace's own
 * opencode config, `.opencode` folder and `AGENTS.md` are not read (they could widen a reader's
 * permissions or load plugins), nor are Claude Code's files; no models list, update check, default
 * plugin, LSP download or share. Its HTTP server (on loopback) gets a password of its own per launch.
 */
export const acpOpencode: AcpPreset = {
  name: "acp:opencode",
  locate({ explicitBin, env, cwd }) {
    const given = explicitBin ?? env.BATON_OPENCODE_BIN;
    if (given) {
      const path = resolve(cwd, given);
      if (isExecutableFile(path)) return path;
      throw new BatonError(
        "backend",
        `opencode binary ${path} does not exist or is not executable: ${OPENCODE_HINT}`,
      );
    }
    const found = findOnPath("opencode", env) ?? inNodeModules(cwd, join(".bin", "opencode"));
    if (!found) throw new BatonError("backend", `opencode was not found: ${OPENCODE_HINT}`);
    return found;
  },
  start(spec, context) {
    const root = context.agentStateDir;
    const home = threadHome(root, context.resumeThreadId);
    const xdg = {
      XDG_CONFIG_HOME: join(home.dir, "config"),
      XDG_DATA_HOME: join(home.dir, "data"),
      XDG_STATE_HOME: join(home.dir, "state"),
      XDG_CACHE_HOME: join(home.dir, "cache"),
    };
    const config = join(xdg.XDG_CONFIG_HOME, "opencode");
    makeStoreDirs(root, [...Object.values(xdg), join(config, "node_modules")]);
    writeStoreFile(root, join(config, "opencode.json"), `${JSON.stringify(OPENCODE_SETTINGS, null, 2)}\n`);
    writeStoreFile(root, join(config, "package-lock.json"), `${JSON.stringify(INSTALLED_LOCK)}\n`);
    const permission = opencodePermission({
      writer: context.writeRoots.length > 0,
      search: spec.search === true,
    });
    return {
      command: [spec.bin, "acp"],
      env: {
        ...xdg,
        OPENCODE_PERMISSION: JSON.stringify(permission),
        // `opencode acp` serves its API on loopback (port 4096, else any): without a password, any
        // local process could read its sessions or prompt it.
        OPENCODE_SERVER_PASSWORD: randomBytes(24).toString("base64url"),
        OPENCODE_DISABLE_PROJECT_CONFIG: "1",
        OPENCODE_DISABLE_CLAUDE_CODE: "1",
        OPENCODE_DISABLE_EXTERNAL_SKILLS: "1",
        OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
        OPENCODE_DISABLE_MODELS_FETCH: "1",
        OPENCODE_DISABLE_AUTOUPDATE: "1",
        OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
        OPENCODE_DISABLE_SHARE: "1",
      },
      onSession: (sessionId) => noteHome(root, sessionId, home.id),
    };
  },
  agentHomes: (env) =>
    [env.XDG_CONFIG_HOME, env.XDG_DATA_HOME, env.XDG_STATE_HOME, env.XDG_CACHE_HOME].filter(
      (dir): dir is string => dir !== undefined,
    ),
};

function inNodeModules(from: string, path: string): string | undefined {
  for (const modules of nodeModulesUpFrom(from)) {
    const candidate = join(modules, path);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}
