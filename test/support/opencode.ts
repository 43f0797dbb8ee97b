import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { WorkerResult } from "../../dist/index.js";
import {
  type ChatStep,
  type DirectiveStep,
  directiveScript,
  type ModelRequest,
  modelScriptLine,
  type ScriptedChat,
  startScriptedChat,
} from "../../dist/scripted-model/index.js";
import { until, workerProcesses } from "./faults.ts";
import { cmdline } from "./gemini.ts";
import { ROOT, Workspace } from "./harness.ts";

// Real opencode workers (`opencode acp`, the pinned devDependency, through `--backend acp:opencode`)
// against a scripted OpenAI-compatible Chat Completions server on loopback, named to opencode by
// `OPENCODE_CONFIG_CONTENT` as the caller's own provider. Each worker's prompt carries its own model
// script; a `tool` step calls any opencode tool by name (`write`, `edit`, `read`...), and a step's turn
// is the number of assistant messages in the history (so opencode's own retry of a request meets the
// same step, and a continued session goes on where it stopped).

export const OPENCODE_BIN = join(ROOT, "node_modules/.bin/opencode");

/** A step of an opencode worker's model script: a directive step, or a call of any opencode tool. */
export type OpencodeStep = DirectiveStep | ChatStep;

/** The prompt line that makes the scripted server play `steps` (see `directiveScript`). */
export const scriptLine = (steps: readonly OpencodeStep[]): string =>
  modelScriptLine(steps as DirectiveStep[]);

/** A model 500 that opencode is told to retry at once (it tries 6 times, honouring `retry-after-ms`). */
export const MODEL_500 = { type: "http_error", status: 500, retryAfterMs: 20 } as const;

/** A workspace whose workers reach the scripted Chat Completions server (its codex model stays unused). */
export class OpencodeWorkspace {
  private constructor(
    readonly ws: Workspace,
    readonly model: ScriptedChat,
    /** The workers' HOME: no worker may write there. */
    readonly userHome: string,
  ) {}

  static async create(): Promise<OpencodeWorkspace> {
    const ws = await Workspace.create(directiveScript());
    const model = await startScriptedChat({ script: directiveScript() });
    const userHome = join(ws.dir, "user-home");
    mkdirSync(userHome);
    ws.env = {
      ...ws.env,
      HOME: userHome,
      BATON_OPENCODE_BIN: OPENCODE_BIN,
      OPENCODE_CONFIG_CONTENT: JSON.stringify(model.opencodeConfig()),
    };
    return new OpencodeWorkspace(ws, model, userHome);
  }

  /** `baton spawn --backend acp:opencode ARGS`: the new worker's id. */
  async spawn(args: readonly string[]): Promise<string> {
    return (await this.ws.ok(["spawn", "--backend", "acp:opencode", ...args])).trim();
  }

  /** The worker's result, whatever its state. */
  async resultOf(id: string): Promise<WorkerResult> {
    return JSON.parse((await this.ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
  }

  /** Runs one worker whose model plays `steps`, and returns its result (any state). */
  async run(name: string, steps: readonly OpencodeStep[], flags: string[] = []): Promise<WorkerResult> {
    const id = await this.spawn([...flags, `${name}\n${scriptLine(steps)}`]);
    await this.ws.baton(["wait", id]);
    return this.resultOf(id);
  }

  /** The requests of the workers whose prompt has a line `name`. */
  requestsFor(name: string): ModelRequest[] {
    return this.model.requests.filter((r) => r.userText.includes(`${name}\n`));
  }

  transcript(id: string): string {
    return readFileSync(join(this.ws.home, "workers", id, "transcript.log"), "utf8");
  }

  /** Waits until worker `id` runs a process whose command line starts with `command`. */
  untilRunning(id: string, command: string): Promise<void> {
    return until(
      `${id} runs ${command}`,
      () => workerProcesses(this.ws, id).some((pid) => cmdline(pid).startsWith(command)),
      60_000,
    );
  }

  async cleanup(): Promise<void> {
    await this.ws.cleanup();
    await this.model.close();
  }
}
