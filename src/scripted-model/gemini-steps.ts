import { createHash } from "node:crypto";
import type { ModelRequest, ScriptStep, StepUsage } from "./steps.js";

/**
 * What the scripted Gemini server answers to one request: any step of the codex server (a `shell`
 * becomes a `run_shell_command` call), a call of any Gemini CLI tool by name (`write_file`, `replace`,
 * `read_file`, `invoke_agent`...) with its arguments, or `invalid`: text with no `finishReason`, which
 * the Gemini CLI calls an invalid stream and tries again.
 */
export type GeminiStep =
  | ScriptStep
  | {
      readonly type: "tool";
      readonly name: string;
      readonly args: Readonly<Record<string, unknown>>;
      readonly usage?: Partial<StepUsage>;
    }
  | { readonly type: "invalid"; readonly text?: string };

export type GeminiScript = (request: ModelRequest) => GeminiStep | readonly GeminiStep[];

type Json = Record<string, unknown>;

/** The first user part of every Gemini CLI conversation: date, OS, workspace, its tree. */
const SESSION_CONTEXT = "<session_context>";

/**
 * One `streamGenerateContent` request as a {@link ModelRequest}. The Gemini CLI sends no session id,
 * so `sessionId` names the conversation by its first user message (which holds the CLI's session
 * context: its project temp folder, under its home): a resumed session keeps it. `turn` is the number
 * of model turns already in the history, so the CLI's own retry of a request has the turn of the first.
 * `userText` is the user's text parts (not the session context, not tool results); `toolOutputs` the
 * function responses' `output` (or `error`), oldest first.
 */
export function geminiRequest(body: Json, bytes: number): ModelRequest {
  const contents = Array.isArray(body.contents) ? (body.contents as Json[]) : [];
  const texts: string[] = [];
  const outputs: string[] = [];
  let turn = 0;
  let first: string | undefined;
  for (const content of contents) {
    if (content.role === "model") {
      turn++;
      continue;
    }
    for (const part of partsOf(content)) {
      if (typeof part.text === "string") {
        first ??= part.text;
        if (!part.text.startsWith(SESSION_CONTEXT)) texts.push(part.text);
      } else if (part.functionResponse && typeof part.functionResponse === "object") {
        outputs.push(responseText((part.functionResponse as Json).response));
      }
    }
  }
  return {
    sessionId: createHash("sha256")
      .update(first ?? "")
      .digest("hex")
      .slice(0, 16),
    turn,
    userText: texts.join("\n"),
    lastToolOutput: outputs.at(-1),
    toolOutputs: outputs,
    body,
    bytes,
  };
}

function partsOf(content: Json): Json[] {
  return Array.isArray(content.parts)
    ? (content.parts as unknown[]).filter((p): p is Json => !!p && typeof p === "object")
    : [];
}

function responseText(response: unknown): string {
  if (!response || typeof response !== "object") return JSON.stringify(response ?? "");
  const { output, error } = response as Json;
  if (typeof output === "string") return output;
  if (typeof error === "string") return error;
  return JSON.stringify(response);
}

/** The names of the functions a request declares to the model: the tools the CLI offers. */
export function declaredTools(request: ModelRequest): string[] {
  const tools = Array.isArray(request.body.tools) ? (request.body.tools as Json[]) : [];
  return tools.flatMap((tool) =>
    Array.isArray(tool.functionDeclarations)
      ? (tool.functionDeclarations as Json[]).map((d) => (typeof d.name === "string" ? d.name : ""))
      : [],
  );
}
