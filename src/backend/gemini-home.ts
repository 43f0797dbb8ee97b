import { mkdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { errnoOf } from "../errors.js";
import { DIR_MODE, writeFileAtomicSync } from "../store/atomic.js";
import { inStoreSync } from "../store/no-follow.js";

// What a Gemini CLI worker finds in its own home (`GEMINI_CLI_HOME`, a folder of the run store): the
// settings and the policy Baton gives it, rewritten at every launch. Nothing of the user's own
// `~/.gemini` is read, and the workspace's `.gemini/settings.json` is not either: the worker's home
// trusts no folder when the CLI loads its settings (`--skip-trust` trusts the workspace only later).

/** Tools that only read: what a reader gets, and a writer too. */
const READ_TOOLS = ["read_file", "read_many_files", "list_directory", "glob", "grep_search"];
/** Tools that change files or run commands, for a writer only. */
const WRITE_TOOLS = [
  "write_file",
  "replace",
  "run_shell_command",
  "list_background_processes",
  "read_background_output",
];
const WEB_TOOLS = ["google_web_search", "web_fetch"];

/**
 * The CLI's settings for every worker: an API key (the CLI otherwise picks the `gateway` auth type
 * once a base URL is set, and refuses it headless), no usage statistics, telemetry, update check, IDE,
 * skills or MCP server, no sub-agents, and two attempts per model request: one retry of its own (5 s
 * later) keeps a blip from costing the session, and Baton's retry takes over from there instead of the
 * CLI's ten attempts over four minutes.
 */
export const WORKER_SETTINGS = {
  security: { auth: { selectedType: "gemini-api-key" } },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
  general: { enableAutoUpdate: false, enableAutoUpdateNotification: false, maxAttempts: 2 },
  experimental: { enableAgents: false },
  skills: { enabled: false },
  ide: { enabled: false },
  mcpServers: {},
  mcp: { allowed: ["__baton_none__"] },
} as const;

/**
 * The worker's policy, loaded at the CLI's user tier (above any policy the workspace brings): every
 * tool denied, then the scope's tools allowed. A denied tool is not even declared to the model, so a
 * reader is offered no tool that writes, and no worker is offered sub-agents (`invoke_agent`), skills,
 * plan mode, questions to a user who is not there, MCP tools or, unless it searches, the web.
 */
export function workerPolicy(options: { readonly writer: boolean; readonly search: boolean }): string {
  const allowed = [
    ...READ_TOOLS,
    ...(options.writer ? WRITE_TOOLS : []),
    ...(options.search ? WEB_TOOLS : []),
  ];
  return [
    "# Written by Baton for this worker, at every launch.",
    "[[rule]]",
    'toolName = "*"',
    'decision = "deny"',
    "priority = 900",
    "",
    "[[rule]]",
    `toolName = ${JSON.stringify(allowed)}`,
    'decision = "allow"',
    "priority = 950",
    "",
  ].join("\n");
}

/** Where the CLI reads its settings and its user-tier policies, under `home`. */
export const settingsFile = (home: string) => join(home, ".gemini", "settings.json");
export const policyFile = (home: string) => join(home, ".gemini", "policies", "baton.toml");

/**
 * Makes `home` (inside `root`, the backend's folder of the run store) and writes the worker's settings
 * and policy into it. The worker may write its home: each folder is made and each file replaced
 * without following a link it could have put there.
 */
export function prepareHome(root: string, home: string, policy: string): void {
  mkdirSync(root, { recursive: true, mode: DIR_MODE });
  const parts = relative(root, home).split(sep).filter(Boolean);
  let dir = root;
  for (const part of [...parts, ".gemini", "policies"]) {
    dir = join(dir, part);
    inStoreSync(root, dir, (at) => {
      try {
        mkdirSync(at, { mode: DIR_MODE });
      } catch (error) {
        if (errnoOf(error) !== "EEXIST") throw error; // a link in its place is refused at the next step
      }
    });
  }
  write(root, settingsFile(home), `${JSON.stringify(WORKER_SETTINGS, null, 2)}\n`);
  write(root, policyFile(home), policy);
}

function write(root: string, path: string, text: string): void {
  inStoreSync(root, path, (at) => writeFileAtomicSync(at, text));
}
