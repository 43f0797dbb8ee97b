import { randomUUID } from "node:crypto";
import { mkdirSync, realpathSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { BatonError } from "../errors.js";
import { DIR_MODE, writeFileAtomicSync } from "../store/atomic.js";
import { inStoreSync } from "../store/no-follow.js";
import { THREAD_ID, type WorkerSpec } from "../worker/types.js";
import type { AcpPreset } from "./acp.js";
import type { LaunchContext } from "./backend.js";
import { GEMINI_DEFAULT_MODEL, geminiBackend } from "./gemini.js";
import { prepareHome } from "./gemini-home.js";
import { findOnPath, isExecutableFile, nodeModulesUpFrom } from "./locate.js";
import { readAgentFile } from "./untrusted-file.js";

/**
 * Tools an ACP Gemini CLI worker is never offered (a policy at the CLI's user tier): sub-agents, skills,
 * plan mode, questions to a user who is not there, and the web unless `--search`. Every other tool is
 * the CLI's default: those that read run, those that change something ask Baton first.
 */
const GEMINI_DENIED = ["invoke_agent", "activate_skill", "enter_plan_mode", "exit_plan_mode", "ask_user"];
const GEMINI_WEB = ["google_web_search", "web_fetch"];
const HOME_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * `gemini --acp` (the Gemini CLI as an ACP agent), found as the gemini backend finds it. Each thread has
 * its own home in the run store (`homes/<id>`, with the settings of the gemini backend and a policy
 * that denies what no worker gets). The agent chooses the session id: Baton notes which home holds it
 * (`sessions/<session id>`), where a `session/load` would find it again once the CLI can load its
 * ACP sessions (see `canResume`).
 */
export const acpGemini: AcpPreset = {
  name: "acp:gemini",
  // The CLI (0.61.0) offers session/load, but records the turn under another session id than the one
  // session/new gave: loading that one fails ("No previous sessions found for this project"). A
  // follow-up is refused at once, and a lost worker runs again from the start, instead.
  canResume: false,
  locate: (options) => geminiBackend.locate(options),
  start(spec: WorkerSpec, context: LaunchContext) {
    const root = context.agentStateDir;
    const known = context.resumeThreadId ? homeOf(root, context.resumeThreadId) : undefined;
    const id = known ?? randomUUID();
    const home = join(root, "homes", id);
    prepareHome(root, home, geminiPolicy(spec.search === true));
    const outside = context.writeRoots.filter((dir) => relative(spec.cwd, dir).startsWith(".."));
    return {
      command: [
        ...nodeScript(spec.bin),
        "--acp",
        "-m",
        spec.model ?? GEMINI_DEFAULT_MODEL,
        "--extensions",
        "none",
        ...outside.flatMap((dir) => ["--include-directories", dir]),
      ],
      // One process: the relauncher would ignore the SIGTERM that ends a stop.
      env: { GEMINI_CLI_HOME: home, GEMINI_CLI_NO_RELAUNCH: "true" },
      onSession: (sessionId) => noteHome(root, sessionId, id),
    };
  },
  agentHomes: (env) => (env.GEMINI_CLI_HOME ? [env.GEMINI_CLI_HOME] : []),
  defaultModel: () => GEMINI_DEFAULT_MODEL,
};

const OPENCODE_HINT =
  "install it with `npm install -g opencode-ai`, or point Baton at it with --bin PATH or BATON_OPENCODE_BIN";

/**
 * `opencode acp`. Its data (sessions, logs) goes to a folder of the run store shared by the opencode
 * workers (`XDG_DATA_HOME`, `XDG_STATE_HOME`, `XDG_CACHE_HOME`), where `session/load` finds a session
 * again; its config is the user's (`~/.config/opencode`, read only), with the models list fetch and
 * the update check off. Not tested here: opencode is not a dependency of Baton's tests.
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
    const data = join(context.agentStateDir, "data");
    return {
      command: [spec.bin, "acp"],
      env: {
        XDG_DATA_HOME: data,
        XDG_STATE_HOME: data,
        XDG_CACHE_HOME: data,
        OPENCODE_DISABLE_MODELS_FETCH: "1",
        OPENCODE_DISABLE_AUTOUPDATE: "1",
      },
    };
  },
  agentHomes: (env) => (env.XDG_DATA_HOME ? [env.XDG_DATA_HOME] : []),
};

/** The Gemini CLI's policy for an ACP worker: see {@link GEMINI_DENIED}. */
export function geminiPolicy(search: boolean): string {
  const denied = [...GEMINI_DENIED, ...(search ? [] : GEMINI_WEB)];
  return [
    "# Written by Baton for this ACP worker, at every launch.",
    "[[rule]]",
    `toolName = ${JSON.stringify(denied)}`,
    'decision = "deny"',
    "priority = 900",
    "",
  ].join("\n");
}

/** The home that holds session `sessionId`, as Baton noted it; undefined if none was. */
function homeOf(root: string, sessionId: string): string | undefined {
  if (!THREAD_ID.test(sessionId)) return undefined;
  try {
    const id = inStoreSync(root, join(root, "sessions", sessionId), (at) => readAgentFile(at))?.trim();
    return id && HOME_ID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Notes that `id` holds session `sessionId`. A store that refuses it costs the thread its resume only. */
function noteHome(root: string, sessionId: string, id: string): void {
  if (!THREAD_ID.test(sessionId)) return;
  const dir = join(root, "sessions");
  try {
    inStoreSync(root, dir, (at) => mkdirSync(at, { recursive: true, mode: DIR_MODE }));
    inStoreSync(root, join(dir, sessionId), (at) => writeFileAtomicSync(at, `${id}\n`));
  } catch {}
}

/** How to run `bin`: a Node script (the CLI's bundle) runs under Baton's own Node. */
function nodeScript(bin: string): string[] {
  let real = bin;
  try {
    real = realpathSync(bin);
  } catch {}
  return /\.(c|m)?js$/.test(real) ? [process.execPath, real] : [bin];
}

function inNodeModules(from: string, path: string): string | undefined {
  for (const modules of nodeModulesUpFrom(from)) {
    const candidate = join(modules, path);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}
