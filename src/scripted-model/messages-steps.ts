import type { ModelRequest, ScriptStep } from "./steps.js";

/**
 * What the scripted Messages server answers to one request: any step of the codex server (a `shell`
 * becomes a `Bash` tool call, an `mcp` call becomes `mcp__<server>__<tool>`), or a call of any
 * Claude Code tool by name (`Write`, `Edit`, `Read`, `Agent`...) with its input.
 */
export type MessagesStep =
  | ScriptStep
  | {
      readonly type: "tool";
      readonly name: string;
      readonly input: Readonly<Record<string, unknown>>;
      readonly usage?: { readonly input_tokens?: number; readonly output_tokens?: number };
    };

export type MessagesScript = (request: ModelRequest) => MessagesStep | readonly MessagesStep[];

type Json = Record<string, unknown>;
type Block = { type?: string; text?: unknown; content?: unknown; tool_use_id?: unknown; is_error?: unknown };

/**
 * One Messages API request as a {@link ModelRequest}: the text of its user messages (never the
 * `role: "system"` entries Claude Code puts among them, never tool results) and its tool results,
 * oldest first. `sessionId` is Claude Code's `x-claude-code-session-id` header; `turn` is counted by
 * the caller.
 */
export function messagesRequest(body: Json, sessionId: string, turn: number, bytes: number): ModelRequest {
  const texts: string[] = [];
  const outputs: string[] = [];
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  for (const message of messages) {
    if (message.role !== "user") continue;
    if (typeof message.content === "string") {
      texts.push(message.content);
      continue;
    }
    if (!Array.isArray(message.content)) continue;
    for (const block of message.content as Block[]) {
      if (block.type === "text" && typeof block.text === "string") texts.push(block.text);
      else if (block.type === "tool_result") outputs.push(toolResultText(block.content));
    }
  }
  return {
    sessionId,
    turn,
    userText: texts.join("\n"),
    lastToolOutput: outputs.at(-1),
    toolOutputs: outputs,
    body,
    bytes,
  };
}

function toolResultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return (content as Block[]).map((part) => (typeof part.text === "string" ? part.text : "")).join("");
  return JSON.stringify(content ?? "");
}
