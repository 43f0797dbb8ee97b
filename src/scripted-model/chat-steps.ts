import type { ModelRequest, ScriptStep, StepUsage } from "./steps.js";

/**
 * What the scripted Chat Completions server answers to one request: any step of the codex server (a
 * `shell` becomes a call of the agent's `bash` tool), or a call of any tool by name (`write`, `edit`,
 * `read`, `task`...) with its arguments.
 */
export type ChatStep =
  | ScriptStep
  | {
      readonly type: "tool";
      readonly name: string;
      readonly args: Readonly<Record<string, unknown>>;
      readonly usage?: Partial<StepUsage>;
    };

export type ChatScript = (request: ModelRequest) => ChatStep | readonly ChatStep[];

type Json = Record<string, unknown>;

/**
 * One `POST /chat/completions` request as a {@link ModelRequest}: `sessionId` is the agent's own id for
 * its conversation where a header gives one (opencode's `x-session-id`), `turn` the number of assistant
 * messages already in the history (so the agent's own retry of a request meets the step the first try
 * met, and a continued session goes on where it stopped). `userText` joins the user messages' text (not
 * the system prompt, not tool results); `toolOutputs` are the `role: "tool"` messages, oldest first.
 */
export function chatRequest(body: Json, sessionId: string, bytes: number): ModelRequest {
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  const texts: string[] = [];
  const outputs: string[] = [];
  let turn = 0;
  for (const message of messages) {
    if (message.role === "assistant") turn++;
    else if (message.role === "user") texts.push(textOf(message.content));
    else if (message.role === "tool") outputs.push(textOf(message.content));
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

/** The names of the functions a request offers the model: the agent's tools. */
export function offeredFunctions(request: ModelRequest): string[] {
  const tools = Array.isArray(request.body.tools) ? (request.body.tools as Json[]) : [];
  return tools.flatMap((tool) => {
    const fn = tool.function as Json | undefined;
    return typeof fn?.name === "string" ? [fn.name] : [];
  });
}

/**
 * Whether a request asks only for a title for a new conversation (opencode sends one per session, with
 * no tools and a system prompt that says so): the server answers it itself, outside the script.
 */
export function isTitleRequest(body: Json): boolean {
  if (Array.isArray(body.tools) && body.tools.length > 0) return false;
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  return messages.some((m) => m.role === "system" && /title generator/i.test(textOf(m.content)));
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content))
    return content === undefined || content === null ? "" : JSON.stringify(content);
  return (content as Json[]).map((part) => (typeof part.text === "string" ? part.text : "")).join("");
}
