import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { BatonError } from "../errors.js";
import type { WorkerSpec } from "../worker/types.js";
import type { AgentOutcome, Backend, LaunchContext, LaunchPlan } from "./backend.js";
import { claudeParser } from "./claude-events.js";
import { findOnPath, isExecutableFile, nodeModulesUpFrom } from "./locate.js";

const INSTALL_HINT =
  "install it with `npm install -g @anthropic-ai/claude-code`, or point Baton at it with --bin PATH or BATON_CLAUDE_BIN";

/**
 * Runs `claude -p --output-format stream-json --verbose` (Claude Code), its prompt on stdin from a file
 * as codex's is (see {@link LaunchPlan.stdin}).
 * Each thread has its own config home in the run store (`CLAUDE_CONFIG_DIR`), named after its session
 * id, which Baton chooses (`--session-id`) and which `--resume` finds again. See docs/backends.md.
 */
export const claudeBackend: Backend = {
  name: "claude",
  transport: "pty",

  locate({ explicitBin, env, cwd }) {
    const given = explicitBin ?? env.BATON_CLAUDE_BIN;
    if (given) {
      const path = resolve(cwd, given);
      if (!isExecutableFile(path)) {
        throw new BatonError(
          "backend",
          `claude binary ${path} does not exist or is not executable: ${INSTALL_HINT}`,
        );
      }
      return path;
    }
    const found = findOnPath("claude", env) ?? inNodeModules(cwd);
    if (!found) throw new BatonError("backend", `claude (Claude Code) was not found: ${INSTALL_HINT}`);
    return found;
  },

  canResume: true,

  // `total_cost_usd` on its result line; before that, its tokens are priced by model from the tables.
  reportsCost: true,

  // Claude Code's own default, unless the environment names one (its init line says which it runs).
  defaultModel: (env) => env.ANTHROPIC_MODEL || undefined,

  // `claude -p` reads its prompt to the end of stdin (the prompt file) and never reads the terminal. A
  // program given as --bin (a test's fixture, a wrapper) may: Baton lets what is typed through.
  acceptsInput: (bin) => !isClaudeBinary(bin),

  launch(spec: WorkerSpec, context: LaunchContext): LaunchPlan {
    const session = context.resumeThreadId ?? randomUUID();
    const args = [
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      ...(context.resumeThreadId ? ["--resume", session] : ["--session-id", session]),
      // No MCP server, no settings but Baton's: not the user's (its config home is the thread's own),
      // nor the project's (`.claude/settings.json` could widen a reader's tools or add hooks).
      "--strict-mcp-config",
      "--setting-sources",
      "",
      ...(spec.model ? ["--model", spec.model] : []),
      ...(context.outputSchemaFile ? ["--json-schema", readFileSync(context.outputSchemaFile, "utf8")] : []),
      ...toolArgs(spec, context),
    ];
    return {
      file: spec.bin,
      args,
      stdin: context.promptFile,
      env: {
        CLAUDE_CONFIG_DIR: join(context.agentStateDir, session),
        CLAUDE_CODE_TMPDIR: context.tmpDir,
        // Measured: without it each run looks up api.anthropic.com (telemetry, the MCP registry).
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_AUTOUPDATER: "1",
        // Claude Code retries a 5xx for about 3 minutes by default; Baton's own retries (1 s, 2 s, 4 s...)
        // take over after ~2 s, and its idle watchdog covers a model that never answers.
        CLAUDE_CODE_MAX_RETRIES: "2",
        API_TIMEOUT_MS: "120000",
      },
    };
  },

  agentHomes(env) {
    return env.CLAUDE_CONFIG_DIR ? [env.CLAUDE_CONFIG_DIR] : [];
  },

  // The session lives in the thread's own config home, in the store of the machine that ran it.
  hasThread: (threadId, { agentStateDir }) => existsSync(join(agentStateDir, threadId)),

  parser: claudeParser,

  outcome({ events, exitCode }): AgentOutcome {
    let answer: string | undefined;
    let failure: string | undefined;
    let lastError: string | undefined;
    let costUsd: number | undefined;
    // Where the last turn stands: a `result` line ends it; an interrupted or killed run leaves it open.
    let turn: "none" | "open" | "completed" | "failed" = "none";
    for (const event of events) {
      if (event.type === "message") answer = event.text;
      else if (event.type === "turn_started") turn = "open";
      else if (event.type === "turn_completed") {
        turn = "completed";
        costUsd = event.costUsd ?? costUsd;
      } else if (event.type === "turn_failed") {
        turn = "failed";
        failure = event.message;
      } else if (event.type === "error") lastError = event.message;
    }
    // Never the exit code alone: an interrupted run exits 0 too, with no result line.
    const ok = exitCode === 0 && turn === "completed";
    const error = ok
      ? undefined
      : turn === "failed"
        ? failure
        : (lastError ?? `Claude Code ended (exit ${exitCode}) without a result line`);
    return {
      ok,
      answer: answer ?? "",
      answerSource: answer !== undefined ? "events" : "none",
      answerMismatch: false,
      error,
      transient: ok ? undefined : claudeTransient(error),
      ...(costUsd !== undefined ? { costUsd } : {}),
    };
  },
};

/**
 * Whether Claude Code's account of a failure says the model service failed on its side (a 5xx, an
 * overload, a connection that broke or never came, a timeout). A 4xx, or the agent's own failure, is not.
 */
export function claudeTransient(message: string | undefined): string | undefined {
  if (!message) return undefined;
  if (/API Error: 4\d\d\b/.test(message)) return undefined;
  const transient =
    /API Error: 5\d\d\b|overloaded|Connection error|ECONNREFUSED|ECONNRESET|socket hang up|timed? ?out|No data arrived/i;
  return transient.test(message) ? message : undefined;
}

/** Readers read-only reading tools and git's read commands are allowed, nothing else is (`dontAsk`);
 * writers edit files and run any command, held to their scope by Baton's sandbox. */
const READ_TOOLS = ["Read", "Grep", "Glob"];
const READ_COMMANDS = ["status", "diff", "log", "show", "blame", "ls-files", "grep"].map(
  (command) => `Bash(git ${command} *)`,
);
const WEB_TOOLS = ["WebSearch", "WebFetch"];

/**
 * The tools the worker gets and what runs without asking (`-p` asks no one: anything else is denied
 * and reported). Sub-agents and workflows are off for every worker: `Task` (alias of Agent) and
 * `Workflow` can both start agents. The tool-list flags take several values each; another flag
 * always follows them.
 */
function toolArgs(spec: WorkerSpec, context: LaunchContext): string[] {
  const web = spec.search ? WEB_TOOLS : [];
  const off = ["--disallowedTools", "Task", "Workflow", ...(spec.search === false ? WEB_TOOLS : [])];
  if (context.writeRoots.length === 0) {
    return [
      "--tools",
      [...READ_TOOLS, "Bash", ...web].join(","),
      "--permission-mode",
      "dontAsk",
      "--allowedTools",
      ...READ_TOOLS,
      ...READ_COMMANDS,
      ...web,
      ...off,
    ];
  }
  // Claude Code's own check refuses edits outside its cwd: a scope beyond it is added.
  const outside = context.writeRoots.filter((root) => relative(spec.cwd, root).startsWith(".."));
  return [
    "--tools",
    ["Bash", "Read", "Edit", "Write", "NotebookEdit", ...READ_TOOLS.slice(1), ...web].join(","),
    "--permission-mode",
    "acceptEdits",
    ...outside.flatMap((root) => ["--add-dir", root]),
    "--allowedTools",
    "Bash",
    ...web,
    ...off,
  ];
}

/** Claude Code itself: its native binary, the npm package's copy of it, or a link named `claude`. */
function isClaudeBinary(bin: string): boolean {
  const name = basename(bin);
  return name === "claude" || name === "claude.exe" || bin.includes("/@anthropic-ai/claude-code");
}

/** The native binary an npm install put under `node_modules` (the package's own `bin` entry). */
function inNodeModules(from: string): string | undefined {
  for (const modules of nodeModulesUpFrom(from)) {
    for (const candidate of [
      join(modules, "@anthropic-ai", "claude-code", "bin", "claude.exe"),
      join(modules, ".bin", "claude"),
    ]) {
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}
