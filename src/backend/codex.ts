import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BatonError } from "../errors.js";
import type { WorkerSpec } from "../worker/types.js";
import type { AgentOutcome, Backend, LaunchContext, LaunchPlan, OutputParser } from "./backend.js";
import { fromCodexEvent } from "./codex-events.js";
import { findOnPath, isExecutableFile, nodeModulesUpFrom } from "./locate.js";

const INSTALL_HINT =
  "install it with `npm install -g @openai/codex`, or point Baton at it with --codex-bin PATH or BATON_CODEX_BIN";

/**
 * Runs `codex exec --json`. The prompt goes in on stdin from a file: an argument is capped at 128 KiB
 * by the kernel, and a terminal's line discipline would mangle long lines. `sh -c 'exec "$@" < "$0"'`
 * only redirects stdin and then becomes codex; the prompt itself never passes through the shell.
 */
export const codexBackend: Backend = {
  name: "codex",

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

  launch(spec: WorkerSpec, context: LaunchContext): LaunchPlan {
    const args = [
      "exec",
      "--json",
      "--skip-git-repo-check",
      "-C",
      spec.cwd,
      "--sandbox",
      spec.scope.kind === "read-only" ? "read-only" : "workspace-write",
      "-c",
      "agents.enabled=false",
      "-o",
      context.lastMessageFile,
    ];
    if (spec.model) args.push("-m", spec.model);
    if (context.outputSchemaFile) args.push("--output-schema", context.outputSchemaFile);
    if (spec.scope.kind === "write") {
      for (const path of spec.scope.paths) if (!isInside(spec.cwd, path)) args.push("--add-dir", path);
    }
    args.push("-");
    return {
      file: "/bin/sh",
      args: ["-c", 'exec "$@" < "$0"', context.promptFile, spec.bin, ...args],
      env: {},
    };
  },

  parser(): OutputParser {
    return {
      line(text) {
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
    const fromFile = lastMessageFile ? readIfAny(lastMessageFile) : undefined;
    const answer = fromEvents ?? fromFile ?? "";
    return {
      ok: exitCode === 0 && failure === undefined,
      answer,
      answerSource:
        fromEvents !== undefined ? "events" : fromFile !== undefined ? "last-message-file" : "none",
      answerMismatch:
        fromEvents !== undefined && fromFile !== undefined && fromFile.trim() !== fromEvents.trim(),
      error: failure ?? (exitCode === 0 ? undefined : lastError),
    };
  },
};

function readIfAny(path: string): string | undefined {
  try {
    const text = readFileSync(path, "utf8");
    return text.length > 0 ? text : undefined;
  } catch {
    return undefined;
  }
}

function isInside(dir: string, path: string): boolean {
  const root = resolve(dir);
  const target = resolve(dir, path);
  return target === root || target.startsWith(`${root}/`);
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
