import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { WorkerResult } from "../../dist/index.js";
import {
  type DirectiveStep,
  directiveScript,
  type MessagesStep,
  type ModelRequest,
  modelScriptLine,
  type ScriptedMessages,
  startScriptedMessages,
} from "../../dist/scripted-model/index.js";
import { until, workerProcesses } from "./faults.ts";
import { ROOT, Workspace } from "./harness.ts";

// Real Claude Code workers (`claude -p`, the pinned devDependency) against a scripted Anthropic
// Messages server on loopback. Each worker's prompt carries its own model script; a `tool` step
// calls any Claude Code tool by name.

export const CLAUDE_BIN = join(ROOT, "node_modules/@anthropic-ai/claude-code/bin/claude.exe");

/**
 * A command that runs until it is stopped. Not `sleep 120`: Claude Code refuses a long standalone sleep
 * ("Blocked: standalone sleep 120"), and its Bash tool would end it after 2 minutes anyway.
 */
export const LONG = "tail -f /dev/null";

/** A step of a claude worker's model script: a directive step, or a call of any Claude Code tool. */
export type ClaudeStep = DirectiveStep | MessagesStep;

/** The prompt line that makes the scripted server play `steps` (see `directiveScript`). */
export const scriptLine = (steps: readonly ClaudeStep[]): string => modelScriptLine(steps as DirectiveStep[]);

/** A task that runs {@link LONG} on its first attempt and answers on any later one. */
export function resumable(name: string): string {
  const answer = { type: "message", text: `${name} finished after resume` } as const;
  return `${name}\n${scriptLine([{ type: "attempts", steps: [{ type: "shell", command: LONG }, answer] }, answer])}`;
}

/** The names of the tools a request offered the model. */
export const tools = (request: ModelRequest) =>
  ((request.body.tools ?? []) as { name?: string }[]).map((tool) => tool.name ?? "");

/** A workspace whose workers reach a scripted Messages server (its codex model stays unused). */
export class ClaudeWorkspace {
  private constructor(
    readonly ws: Workspace,
    readonly model: ScriptedMessages,
  ) {}

  static async create(): Promise<ClaudeWorkspace> {
    const ws = await Workspace.create(directiveScript());
    const model = await startScriptedMessages({ script: directiveScript() });
    ws.env = { ...ws.env, ...model.env(), BATON_CLAUDE_BIN: CLAUDE_BIN };
    return new ClaudeWorkspace(ws, model);
  }

  /** `baton spawn --backend claude ARGS`: the new worker's id. */
  async spawn(args: readonly string[]): Promise<string> {
    return (await this.ws.ok(["spawn", "--backend", "claude", ...args])).trim();
  }

  /** The worker's result, whatever its state. */
  async resultOf(id: string): Promise<WorkerResult> {
    return JSON.parse((await this.ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
  }

  /** Runs one worker whose model plays `steps`, and returns its result (any state). */
  async run(name: string, steps: readonly ClaudeStep[], flags: string[] = []): Promise<WorkerResult> {
    const id = await this.spawn([...flags, `${name}\n${scriptLine(steps)}`]);
    await this.ws.baton(["wait", id]);
    return this.resultOf(id);
  }

  /** The requests of the workers whose prompt has a line `name`. */
  requestsFor(name: string): ModelRequest[] {
    return this.model.requests.filter((r) => r.userText.includes(`${name}\n`));
  }

  /** The worker's `events.jsonl`. */
  events(id: string): { type: string; costUsd?: number }[] {
    return readFileSync(join(this.ws.home, "workers", id, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; costUsd?: number });
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

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ");
  } catch {
    return "";
  }
}
