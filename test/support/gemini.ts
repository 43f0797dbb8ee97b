import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { WorkerResult } from "../../dist/index.js";
import {
  type DirectiveStep,
  directiveScript,
  type GeminiStep,
  type ModelRequest,
  modelScriptLine,
  type ScriptedGemini,
  startScriptedGemini,
} from "../../dist/scripted-model/index.js";
import { until, workerProcesses } from "./faults.ts";
import { FIXTURES, ROOT, Workspace } from "./harness.ts";

// Real Gemini CLI workers (`gemini -o stream-json`, the pinned devDependency) against a scripted
// Gemini API server on loopback. Each worker's prompt carries its own model script; a `tool` step
// calls any Gemini CLI tool by name, and a step's turn is the number of model turns in the history
// (so the CLI's own retry of a request meets the same step, and `attempts` tells them apart).

export const GEMINI_BIN = join(ROOT, "node_modules/@google/gemini-cli/bundle/gemini.js");
/** The CLI as it runs by default: a relauncher that ignores SIGINT and SIGTERM, and its child. */
export const RELAUNCHING_BIN = join(FIXTURES, "gemini-relaunching.sh");

/** A step of a gemini worker's model script: a directive step, or a call of any Gemini CLI tool. */
export type GeminiScriptStep = DirectiveStep | GeminiStep;

/** The prompt line that makes the scripted server play `steps` (see `directiveScript`). */
export const scriptLine = (steps: readonly GeminiScriptStep[]): string =>
  modelScriptLine(steps as DirectiveStep[]);

/** A task that runs a long command on its first attempt and answers on any later one. */
export function resumable(name: string): string {
  const answer = { type: "message", text: `${name} finished after resume` } as const;
  return `${name}\n${scriptLine([{ type: "attempts", steps: [{ type: "shell", command: "sleep 600" }, answer] }, answer])}`;
}

/** A workspace whose workers reach a scripted Gemini server (its codex model stays unused). */
export class GeminiWorkspace {
  private constructor(
    readonly ws: Workspace,
    readonly model: ScriptedGemini,
    /** The workers' HOME: no worker may write there. */
    readonly userHome: string,
  ) {}

  static async create(): Promise<GeminiWorkspace> {
    const ws = await Workspace.create(directiveScript());
    const model = await startScriptedGemini({ script: directiveScript() });
    const userHome = join(ws.dir, "user-home");
    mkdirSync(userHome);
    ws.env = { ...ws.env, ...model.env(), HOME: userHome, BATON_GEMINI_BIN: GEMINI_BIN };
    return new GeminiWorkspace(ws, model, userHome);
  }

  /** `baton spawn --backend gemini ARGS`: the new worker's id. */
  async spawn(args: readonly string[]): Promise<string> {
    return (await this.ws.ok(["spawn", "--backend", "gemini", ...args])).trim();
  }

  /** The worker's result, whatever its state. */
  async resultOf(id: string): Promise<WorkerResult> {
    return JSON.parse((await this.ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
  }

  /** Runs one worker whose model plays `steps`, and returns its result (any state). */
  async run(name: string, steps: readonly GeminiScriptStep[], flags: string[] = []): Promise<WorkerResult> {
    const id = await this.spawn([...flags, `${name}\n${scriptLine(steps)}`]);
    await this.ws.baton(["wait", id]);
    return this.resultOf(id);
  }

  /** The requests of the workers whose prompt has a line `name`. */
  requestsFor(name: string): ModelRequest[] {
    return this.model.requests.filter((r) => r.userText.includes(`${name}\n`));
  }

  /** The kinds of the worker's `events.jsonl`. */
  eventKinds(id: string): string[] {
    return readFileSync(join(this.ws.home, "workers", id, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { type: string }).type);
  }

  /** The session files the CLI wrote in thread `threadId`'s own home (their paths). */
  sessionFiles(threadId: string): string[] {
    const tmp = join(this.ws.home, "agents", "gemini", threadId, ".gemini", "tmp");
    return readdirSync(tmp).flatMap((project) => {
      const chats = join(tmp, project, "chats");
      return existsSync(chats) ? readdirSync(chats).map((name) => join(chats, name)) : [];
    });
  }

  /** Waits until worker `id` runs a process whose command line starts with `command`. */
  untilRunning(id: string, command: string): Promise<void> {
    return until(`${id} runs ${command}`, () =>
      workerProcesses(this.ws, id).some((pid) => cmdline(pid).startsWith(command)),
    );
  }

  async cleanup(): Promise<void> {
    await this.ws.cleanup();
    await this.model.close();
  }
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ");
  } catch {
    return "";
  }
}
