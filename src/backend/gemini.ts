import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { BatonError } from "../errors.js";
import type { WorkerSpec } from "../worker/types.js";
import type { AgentOutcome, Backend, LaunchContext, LaunchPlan } from "./backend.js";
import { geminiParser } from "./gemini-events.js";
import { prepareHome, workerPolicy } from "./gemini-home.js";
import { recordedAnswer, recordedUsage } from "./gemini-session.js";
import { findOnPath, isExecutableFile, nodeModulesUpFrom } from "./locate.js";

const INSTALL_HINT =
  "install it with `npm install -g @google/gemini-cli`, or point Baton at it with --bin PATH or BATON_GEMINI_BIN";

/**
 * The model a worker asks for when given none: the CLI's default pro model (0.61.0), by name. The
 * CLI's own default, `auto`, first asks a router model which model to use: a call more, and a model
 * Baton could not price in advance.
 */
export const GEMINI_DEFAULT_MODEL = "gemini-2.5-pro";

/**
 * What `launch` decided for each attempt it started in this process: the thread's home, and when.
 * `outcome` finds it by the attempt's last-message file and `liveUsage` by the thread id (Baton gives
 * neither the launch's variables), to read the CLI's own record of the session.
 */
const launched = new Map<
  string,
  { readonly home: string; readonly session: string; readonly since: number }
>();

/**
 * Runs `gemini -o stream-json` (Gemini CLI), its prompt on stdin from a file as codex's is (the CLI
 * reads a piped stdin to its end and runs headless; an argument is capped at 128 KiB). Each thread has
 * its own home in the run store (`GEMINI_CLI_HOME`), named after its session id, which Baton chooses
 * (`--session-id`) and which `--resume` finds again; Baton writes the settings and policy there. See
 * docs/backends.md.
 */
export const geminiBackend: Backend = {
  name: "gemini",
  transport: "pty",
  endsAfterTurn: true,

  locate({ explicitBin, env, cwd }) {
    const given = explicitBin ?? env.BATON_GEMINI_BIN;
    if (given) {
      const path = resolve(cwd, given);
      if (!isExecutableFile(path)) {
        throw new BatonError(
          "backend",
          `gemini binary ${path} does not exist or is not executable: ${INSTALL_HINT}`,
        );
      }
      return path;
    }
    const found = findOnPath("gemini", env) ?? inNodeModules(cwd);
    if (!found) throw new BatonError("backend", `gemini (Gemini CLI) was not found: ${INSTALL_HINT}`);
    return found;
  },

  canResume: true,

  defaultModel: () => GEMINI_DEFAULT_MODEL,

  // With its prompt on stdin the CLI never reads the terminal. A program given as --bin (a test's
  // fixture, a wrapper) may: Baton lets what is typed through.
  acceptsInput: (bin) => !isGeminiBinary(bin),

  launch(spec: WorkerSpec, context: LaunchContext): LaunchPlan {
    const session = context.resumeThreadId ?? randomUUID();
    const home = join(context.agentStateDir, session);
    const attempt = { home, session, since: Date.now() };
    launched.set(context.lastMessageFile, attempt);
    launched.set(session, attempt);
    const writer = context.writeRoots.length > 0;
    prepareHome(context.agentStateDir, home, workerPolicy({ writer, search: spec.search === true }));
    // The CLI's file tools refuse paths outside its workspace: a scope beyond the cwd is added to it.
    const outside = context.writeRoots.filter((root) => relative(spec.cwd, root).startsWith(".."));
    const args = [
      "-o",
      "stream-json",
      // Headless, the CLI refuses a folder it was not told to trust (exit 55).
      "--skip-trust",
      "-m",
      spec.model ?? GEMINI_DEFAULT_MODEL,
      ...(context.resumeThreadId ? ["--resume", session] : ["--session-id", session]),
      // A reader's tools are only the ones that need no approval, which read; a writer's are all its
      // policy allows, held to its scope by Baton's sandbox.
      "--approval-mode",
      writer ? "yolo" : "default",
      "--extensions",
      "none",
      ...outside.flatMap((root) => ["--include-directories", root]),
      // Appended after the prompt read from stdin: the CLI has no flag for an answer's schema.
      ...(context.outputSchemaFile ? ["-p", schemaInstruction(context.outputSchemaFile)] : []),
    ];
    const [file, ...start] = command(spec.bin);
    return {
      file: file!,
      args: [...start, ...args],
      stdin: context.promptFile,
      env: {
        GEMINI_CLI_HOME: home,
        // One process instead of a relauncher (which ignores SIGINT and SIGTERM) and its child: half
        // the memory, a second less at start, and a Ctrl+C that reaches the CLI itself.
        GEMINI_CLI_NO_RELAUNCH: "true",
      },
    };
  },

  agentHomes(env) {
    return env.GEMINI_CLI_HOME ? [env.GEMINI_CLI_HOME] : [];
  },

  // The session lives in the thread's own home, in the store of the machine that ran it.
  hasThread: (threadId, { agentStateDir }) => existsSync(join(agentStateDir, threadId)),

  liveUsage(threadId) {
    const attempt = launched.get(threadId);
    return attempt ? recordedUsage(attempt.home, threadId, attempt.since) : { read: () => undefined };
  },

  parser: geminiParser,

  outcome({ events, exitCode, lastMessageFile }): AgentOutcome {
    let answer: string | undefined;
    let threadId: string | undefined;
    let failure: string | undefined;
    let lastError: string | undefined;
    // Where the run stands: a `result` line ends it; a run cut short (a signal, a crash) leaves it open.
    let turn: "none" | "open" | "completed" | "failed" = "none";
    for (const event of events) {
      if (event.type === "message") answer = event.text;
      else if (event.type === "thread") threadId = event.threadId;
      else if (event.type === "command" || event.type === "file_change" || event.type === "tool_call")
        answer = undefined; // the answer is what the model said after its last tool
      else if (event.type === "turn_started") turn = "open";
      else if (event.type === "turn_completed") turn = "completed";
      else if (event.type === "turn_failed") {
        turn = "failed";
        failure = event.message;
      } else if (event.type === "error" && !event.message.startsWith("warning: ")) lastError = event.message;
    }
    // Never the exit code alone: a signal, an invalid stream and an interrupted run all exit 0.
    const ok = exitCode === 0 && turn === "completed";
    const error = ok
      ? undefined
      : turn === "failed"
        ? failure
        : (lastError ?? `the Gemini CLI ended (exit ${exitCode}) without a result`);
    // After the CLI retried a broken stream, the stream holds the failed attempt's text too; the
    // session's record holds only the answer.
    const attempt = lastMessageFile ? launched.get(lastMessageFile) : undefined;
    if (lastMessageFile) launched.delete(lastMessageFile);
    if (attempt) launched.delete(attempt.session);
    const recorded = ok && attempt && threadId ? recordedAnswer(attempt.home, threadId) : undefined;
    const differs = recorded !== undefined && recorded.trim() !== (answer ?? "").trim();
    return {
      ok,
      answer: (differs ? recorded : answer) ?? "",
      answerSource: differs ? "last-message-file" : answer !== undefined ? "events" : "none",
      answerMismatch: differs && answer !== undefined,
      error,
      transient: ok ? undefined : geminiTransient(error, exitCode),
    };
  },
};

/**
 * Whether the Gemini CLI's account of a failure says the model service failed on its side: a 5xx
 * (its exit code is the HTTP status modulo 256: 244 for a 500), a stream that broke off or never
 * ended, a connection that failed or timed out. A 4xx, or the agent's own failure, is not.
 */
export function geminiTransient(message: string | undefined, exitCode: number): string | undefined {
  const serverStatus = exitCode >= 244 && exitCode <= 255; // 500..511
  if (!message)
    return serverStatus ? `the Gemini CLI exited ${exitCode} (HTTP ${exitCode + 256})` : undefined;
  if (/\b4\d\d\b/.test(message) && !/\b5\d\d\b/.test(message)) return undefined;
  // The CLI's invalid streams: no finish reason, a malformed call, an empty answer (not a blocked
  // one, nor one cut at the token limit, which would end the same way again).
  const transient =
    /\b5\d\d\b|invalid stream|without a finish reason|malformed function call|empty response|fetch failed|ECONNRESET|ECONNREFUSED|socket hang up|\bterminated\b|timed? ?out/i;
  return serverStatus || transient.test(message) ? message : undefined;
}

/** The answer's JSON Schema, as words after the prompt. */
function schemaInstruction(file: string): string {
  const schema = readFileSync(file, "utf8").trim();
  return `Your final answer must be only a JSON value that follows this JSON Schema, with no other text:\n${schema}`;
}

/** How to run `bin`: the CLI's bundle is a Node script, run by this Node (its `#!/usr/bin/env node` needs a `node` on PATH). */
function command(bin: string): string[] {
  let real = bin;
  try {
    real = realpathSync(bin);
  } catch {}
  return /\.(c|m)?js$/.test(real) ? [process.execPath, real] : [bin];
}

/** The Gemini CLI itself: its bundle, or a link named `gemini` to it. */
function isGeminiBinary(bin: string): boolean {
  const name = basename(bin);
  return name === "gemini" || name === "gemini.js" || bin.includes("/@google/gemini-cli/");
}

/** The bundle an npm install put under `node_modules` (the package's own `bin` entry). */
function inNodeModules(from: string): string | undefined {
  for (const modules of nodeModulesUpFrom(from)) {
    for (const candidate of [
      join(modules, "@google", "gemini-cli", "bundle", "gemini.js"),
      join(modules, ".bin", "gemini"),
    ]) {
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}
