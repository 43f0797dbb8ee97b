import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type GeminiStep,
  type MessagesStep,
  type ModelRequest,
  type ScriptedGemini,
  type ScriptedMessages,
  type ScriptStep,
  startScriptedGemini,
  startScriptedMessages,
} from "../../dist/scripted-model/index.js";
import { CLAUDE_BIN } from "./claude.ts";
import { GEMINI_BIN } from "./gemini.ts";
import { Workspace } from "./harness.ts";

// One workspace whose workers may run on any backend: codex, Claude Code and the Gemini CLI, each the
// real pinned CLI against its own scripted server on loopback, all answering from one reply function.

/** What a worker's model says: a structured answer (JSON), or plain text. */
export type Reply = { readonly json: unknown } | { readonly text: string };

/** The backends' scripted servers, and the reply function they share. */
export class MixedWorkspace {
  private constructor(
    readonly ws: Workspace,
    readonly claude: ScriptedMessages,
    readonly gemini: ScriptedGemini,
  ) {}

  /** `reply` answers every model request of every backend. */
  static async create(reply: (request: ModelRequest) => Reply): Promise<MixedWorkspace> {
    const ws = await Workspace.create((request) => codexStep(reply(request)));
    const claude = await startScriptedMessages({ script: (request) => claudeStep(request, reply) });
    const gemini = await startScriptedGemini({ script: (request) => geminiStep(reply(request)) });
    const userHome = join(ws.dir, "user-home");
    mkdirSync(userHome);
    ws.env = {
      ...ws.env,
      ...claude.env(),
      ...gemini.env(),
      HOME: userHome,
      BATON_CLAUDE_BIN: CLAUDE_BIN,
      BATON_GEMINI_BIN: GEMINI_BIN,
    };
    return new MixedWorkspace(ws, claude, gemini);
  }

  /** Each backend's model requests whose text holds `marker`. */
  requestsWith(marker: string): { codex: ModelRequest[]; claude: ModelRequest[]; gemini: ModelRequest[] } {
    const has = (r: ModelRequest) => r.userText.includes(marker);
    return {
      codex: this.ws.model.requests.filter(has),
      claude: this.claude.requests.filter(has),
      gemini: this.gemini.requests.filter(has),
    };
  }

  /** The run's `run.json`. */
  runRecord(dir: string): { workers: { id: string; label: string; backend?: string; model?: string }[] } {
    return JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as {
      workers: { id: string; label: string; backend?: string; model?: string }[];
    };
  }

  async cleanup(): Promise<void> {
    await this.ws.cleanup();
    await Promise.all([this.claude.close(), this.gemini.close()]);
  }
}

const text = (reply: Reply): string => ("json" in reply ? JSON.stringify(reply.json) : reply.text);

const codexStep = (reply: Reply): ScriptStep => ({ type: "message", text: text(reply) });

// The Gemini CLI has no answer schema: the JSON is the answer's text.
const geminiStep = (reply: Reply): GeminiStep => ({ type: "message", text: text(reply) });

/**
 * Claude Code with an answer schema (`--json-schema`) answers by calling its StructuredOutput tool,
 * whose input becomes the answer; after the tool's result the model only says it is done.
 */
function claudeStep(request: ModelRequest, reply: (request: ModelRequest) => Reply): MessagesStep {
  const offered = ((request.body.tools ?? []) as { name?: string }[]).some(
    (tool) => tool.name === "StructuredOutput",
  );
  if (offered && request.toolOutputs.length > 0) return { type: "message", text: "done" };
  const answer = reply(request);
  if (offered && "json" in answer) {
    return { type: "tool", name: "StructuredOutput", input: answer.json as Record<string, unknown> };
  }
  return { type: "message", text: text(answer) };
}
