import { realpathSync } from "node:fs";
import { relative } from "node:path";
import type { WorkerSpec } from "../worker/types.js";
import type { AcpPreset } from "./acp.js";
import { noteHome, threadHome } from "./acp-homes.js";
import type { LaunchContext } from "./backend.js";
import { GEMINI_DEFAULT_MODEL, geminiBackend } from "./gemini.js";
import { prepareHome } from "./gemini-home.js";

export { acpOpencode } from "./acp-opencode.js";

/**
 * Tools an ACP Gemini CLI worker is never offered (a policy at the CLI's user tier): sub-agents, skills,
 * plan mode, questions to a user who is not there, and the web unless `--search`. Every other tool is
 * the CLI's default: those that read run, those that change something ask Baton first.
 */
const GEMINI_DENIED = ["invoke_agent", "activate_skill", "enter_plan_mode", "exit_plan_mode", "ask_user"];
const GEMINI_WEB = ["google_web_search", "web_fetch"];

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
    const { id, dir: home } = threadHome(root, context.resumeThreadId);
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

/** How to run `bin`: a Node script (the CLI's bundle) runs under Baton's own Node. */
function nodeScript(bin: string): string[] {
  let real = bin;
  try {
    real = realpathSync(bin);
  } catch {}
  return /\.(c|m)?js$/.test(real) ? [process.execPath, real] : [bin];
}
