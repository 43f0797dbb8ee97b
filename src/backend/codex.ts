import { readdirSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { BatonError } from "../errors.js";
import type { WorkerSpec } from "../worker/types.js";
import type { AgentOutcome, Backend, LaunchContext, LaunchPlan, OutputParser } from "./backend.js";
import { fromCodexEvent } from "./codex-events.js";
import { codexConfigModel } from "./codex-model.js";
import { codexRolloutUsage } from "./codex-rollout.js";
import { codexHasThread, codexHoldsMessage, codexThreadMessages } from "./codex-thread.js";
import { findOnPath, isExecutableFile, nodeModulesUpFrom } from "./locate.js";
import { readAgentFile } from "./untrusted-file.js";

const INSTALL_HINT =
  "install it with `npm install -g @openai/codex`, or point Baton at it with --codex-bin PATH or BATON_CODEX_BIN";

/**
 * Runs `codex exec --json`. The prompt goes in on stdin from a file (see {@link LaunchPlan.stdin}); it
 * never passes through a shell.
 */
export const codexBackend: Backend = {
  name: "codex",
  transport: "pty",
  endsAfterTurn: true,
  makesMountPoints: true,

  locate({ explicitBin, env, cwd }) {
    const given = explicitBin ?? env.BATON_CODEX_BIN;
    if (given) {
      const path = resolve(cwd, given);
      if (!isExecutableFile(path)) {
        throw new BatonError(
          "backend",
          `codex binary ${path} does not exist or is not executable: ${INSTALL_HINT}`,
        );
      }
      return path;
    }
    const found = findOnPath("codex", env) ?? inNodeModules(cwd);
    if (!found) throw new BatonError("backend", `codex was not found: ${INSTALL_HINT}`);
    return found;
  },

  canResume: true,

  // Codex's own binary never reads its terminal. Another program given as --codex-bin (a test's
  // fixture agent, a wrapper) is launched the same way but may read /dev/tty: Baton cannot know, and
  // lets what is typed through.
  acceptsInput: (bin) => !isCodexBinary(bin),

  launch(spec: WorkerSpec, context: LaunchContext): LaunchPlan {
    const common = ["--json", "--skip-git-repo-check", "-c", "agents.enabled=false"];
    // Nor Baton's MCP server, which the user's config may register: workers do not orchestrate. An
    // override merges into the table (so `mcp_servers={}` removes nothing); this one disables a
    // registered `baton` and, where there is none, adds a disabled one that codex accepts.
    common.push("-c", 'mcp_servers.baton={command="true",enabled=false}');
    common.push(...sandboxArgs(spec, context));
    common.push("-o", context.lastMessageFile);
    if (spec.model) common.push("-m", spec.model);
    // Codex 0.169 offers its web search tool from a cached index by default: "live" searches the web,
    // "disabled" removes the tool.
    if (spec.search !== undefined) common.push("-c", `web_search="${spec.search ? "live" : "disabled"}"`);
    if (context.outputSchemaFile) common.push("--output-schema", context.outputSchemaFile);
    // `exec resume` takes no -C: the terminal starts in the worker's cwd. Always by thread id:
    // `--last` would pick another worker's.
    const args = context.resumeThreadId
      ? ["exec", "resume", ...common, context.resumeThreadId]
      : ["exec", ...common, "-C", spec.cwd];
    args.push("-");
    return { file: spec.bin, args, stdin: context.promptFile, env: {} };
  },

  agentHomes(env) {
    return [env.CODEX_HOME || join(env.HOME || homedir(), ".codex")];
  },

  liveUsage: codexRolloutUsage,

  hasThread: (threadId, { env }) => codexHasThread(threadId, env),

  holdsMessage: (threadId, text, { env }, before) => codexHoldsMessage(threadId, text, env, before),

  threadMessages: (threadId, { env }) => codexThreadMessages(threadId, env),

  // What it runs is also in its rollout log (each turn's `turn_context`), read once the thread starts.
  defaultModel: codexConfigModel,

  parser(): OutputParser {
    return {
      line(text) {
        // What codex says as it exits on an error it has no event for (a refused prompt, a thread it
        // cannot resume): one line on stderr, which the terminal mixes in.
        if (text.startsWith(EXIT_ERROR)) return [{ type: "error", message: text.slice(EXIT_ERROR.length) }];
        const start = text.indexOf("{");
        if (start < 0) return [];
        try {
          const event = JSON.parse(text.slice(start)) as unknown;
          return event && typeof event === "object" ? fromCodexEvent(event as Record<string, unknown>) : [];
        } catch {
          return [];
        }
      },
    };
  },

  outcome({ events, exitCode, lastMessageFile }): AgentOutcome {
    let fromEvents: string | undefined;
    let failure: string | undefined;
    let lastError: string | undefined;
    for (const event of events) {
      if (event.type === "message") fromEvents = event.text;
      else if (event.type === "turn_failed") failure = event.message;
      else if (event.type === "error") lastError = event.message;
    }
    // The file is created empty at start and stays empty on failure: only content counts.
    const fromFile = lastMessageFile ? readAgentFile(lastMessageFile) : undefined;
    const answer = fromEvents ?? fromFile ?? "";
    return {
      ok: exitCode === 0 && failure === undefined,
      answer,
      answerSource:
        fromEvents !== undefined ? "events" : fromFile !== undefined ? "last-message-file" : "none",
      answerMismatch:
        fromEvents !== undefined && fromFile !== undefined && fromFile.trim() !== fromEvents.trim(),
      error: failure ?? (exitCode === 0 ? undefined : lastError),
      transient: transientFailure(failure ?? lastError),
    };
  },
};

/** How codex starts the line it prints on stderr when it exits on an error. */
const EXIT_ERROR = "Error: ";

/**
 * Whether codex's error says the model service failed on its side: a 5xx (codex words a 500 as "high
 * demand"), or a connection that broke or never came. A 4xx, or the agent's own failure, is not.
 */
export function transientFailure(message: string | undefined): string | undefined {
  if (!message) return undefined;
  if (/\b4\d\d\b/.test(message) && !/\b5\d\d\b/.test(message)) return undefined;
  const transient =
    /\bstatus:? 5\d\d\b|\b5\d\d (Internal|Bad Gateway|Service|Gateway)|high demand|stream disconnected|error sending request|connection (refused|reset|closed)|timed out|idle timeout/i;
  return transient.test(message) ? message : undefined;
}

/**
 * Codex's own sandbox, kept inside Baton's: a reader runs read-only, and a writer of its whole cwd in
 * `workspace-write`. A writer of less than its cwd gets a permission profile that scopes codex's
 * commands to the scope's folders (a file scope gives its folder; Baton's sandbox holds it to the
 * file) and its TMPDIR, with the store hidden and no network. The profile costs codex about 0.2 s at
 * start (measured with codex 0.169), hence the plain modes wherever they say the same.
 */
function sandboxArgs(spec: WorkerSpec, context: LaunchContext): string[] {
  const mode =
    context.writeRoots.length === 0
      ? "read-only"
      : context.writeRoots.length === 1 && context.writeRoots[0] === spec.cwd
        ? "workspace-write"
        : undefined;
  if (mode) {
    // Not /tmp, which Baton's sandbox keeps read-only (codex would make mount points in it): the
    // worker's own TMPDIR is writable in both.
    const tmp = mode === "workspace-write" ? ["-c", "sandbox_workspace_write.exclude_slash_tmp=true"] : [];
    return [...tmp, ...(context.resumeThreadId ? ["-c", `sandbox_mode="${mode}"`] : ["--sandbox", mode])];
  }
  return ["-c", 'default_permissions="baton"', "-c", `permissions.baton.filesystem=${profile(context)}`];
}

/** A codex permission profile's filesystem table, as TOML: absolute paths, the most specific wins. */
function profile(context: LaunchContext): string {
  const entries: [string, string][] = [
    [":root", "read"],
    [":tmpdir", "write"],
    ...context.hidden.map((path): [string, string] => [path, "none"]),
    ...context.writeRoots.map((path): [string, string] => [path, "write"]),
  ];
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}=${JSON.stringify(value)}`).join(", ")}}`;
}

/** Codex itself: the native binary, its Node wrapper, or a link named `codex` to either. */
function isCodexBinary(bin: string): boolean {
  const name = basename(bin);
  return name === "codex" || name === "codex.js" || bin.includes("/@openai/codex");
}

/** The native codex binary an npm install put under `node_modules`, or its Node wrapper. */
function inNodeModules(from: string): string | undefined {
  for (const modules of nodeModulesUpFrom(from)) {
    const scope = join(modules, "@openai");
    let names: string[] = [];
    try {
      names = readdirSync(scope).filter((name) =>
        name.startsWith(`codex-${process.platform}-${process.arch}`),
      );
    } catch {}
    for (const name of names) {
      const vendor = join(scope, name, "vendor");
      let triples: string[] = [];
      try {
        triples = readdirSync(vendor);
      } catch {}
      for (const triple of triples) {
        const native = join(vendor, triple, "bin", "codex");
        if (isExecutableFile(native)) return native;
      }
    }
    const wrapper = join(modules, ".bin", "codex");
    if (isExecutableFile(wrapper)) return wrapper;
  }
  return undefined;
}
