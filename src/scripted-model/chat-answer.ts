import { randomUUID } from "node:crypto";
import type http from "node:http";
import type { ChatStep } from "./chat-steps.js";

// How the scripted Chat Completions server answers: an HTTP error, silence, or one assistant message,
// as a server-sent event stream of `chat.completion.chunk`s (`stream: true`, with the usage chunk when
// `stream_options.include_usage` asks for it, then `[DONE]`), or as one `chat.completion`.

type Json = Record<string, unknown>;

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

interface Call {
  readonly id: string;
  readonly name: string;
  readonly args: string;
}

/** Plays `steps` as the answer to one request for `model`. */
export function answerChat(
  res: http.ServerResponse,
  steps: readonly ChatStep[],
  options: { readonly model: string; readonly stream: boolean; readonly includeUsage: boolean },
): void {
  const first = steps[0];
  if (first?.type === "hang") return; // keep the socket open, send nothing
  if (first?.type === "http_error" || first?.type === "failed") {
    const status = first.type === "failed" ? 400 : first.status;
    const message = first.type === "failed" ? first.message : `scripted HTTP ${status}`;
    const retry = first.type === "http_error" && first.retryAfterMs !== undefined;
    res.writeHead(status, {
      "content-type": "application/json",
      ...(retry ? { "retry-after-ms": String(first.retryAfterMs) } : {}),
    });
    res.end(
      first.type === "http_error" && first.body
        ? first.body
        : JSON.stringify({
            error: { message, type: status >= 500 ? "server_error" : "invalid_request_error", code: null },
          }),
    );
    return;
  }
  const { texts, calls, usage, stalls } = contentOf(steps);
  const finish = calls.length > 0 ? "tool_calls" : "stop";
  const head = {
    id: `chatcmpl-${randomUUID()}`,
    created: Math.floor(Date.now() / 1000),
    model: options.model,
  };
  const total = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
  const text = texts.join("\n\n");
  if (!options.stream) {
    if (stalls) return;
    const message: Json = { role: "assistant", content: text || null };
    if (calls.length > 0) message.tool_calls = calls.map((call) => toolCall(call));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        ...head,
        object: "chat.completion",
        choices: [{ index: 0, message, finish_reason: finish }],
        usage: total,
      }),
    );
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const send = (data: Json) =>
    res.write(`data: ${JSON.stringify({ ...head, object: "chat.completion.chunk", ...data })}\n\n`);
  const delta = (d: Json, finishReason: string | null = null) =>
    send({ choices: [{ index: 0, delta: d, finish_reason: finishReason }] });
  delta({ role: "assistant", content: "" });
  if (stalls) return; // headers and the first chunk sent; nothing more
  // Text streams in two chunks, as a real model's does; each call comes whole.
  if (text) {
    const half = Math.ceil(text.length / 2);
    delta({ content: text.slice(0, half) });
    if (text.length > half) delta({ content: text.slice(half) });
  }
  for (const [index, call] of calls.entries()) delta({ tool_calls: [{ index, ...toolCall(call) }] });
  delta({}, finish);
  if (options.includeUsage) send({ choices: [], usage: total });
  res.write("data: [DONE]\n\n");
  res.end();
}

function toolCall(call: Call): Json {
  return { id: call.id, type: "function", function: { name: call.name, arguments: call.args } };
}

/** The text and calls of the steps' message, and its usage; `stalls` when a step says to go silent. */
function contentOf(steps: readonly ChatStep[]): {
  texts: string[];
  calls: Call[];
  usage: Usage;
  stalls: boolean;
} {
  const texts: string[] = [];
  const calls: Call[] = [];
  const usage: Usage = { prompt_tokens: 0, completion_tokens: 0 };
  const count = (used: { input_tokens?: number; output_tokens?: number } | undefined) => {
    usage.prompt_tokens += used?.input_tokens ?? 100;
    usage.completion_tokens += used?.output_tokens ?? 10;
  };
  const call = (name: string, args: unknown) =>
    calls.push({ id: `call_${randomUUID().replaceAll("-", "")}`, name, args: JSON.stringify(args) });
  for (const step of steps) {
    switch (step.type) {
      case "stall":
        return { texts, calls, usage, stalls: true };
      case "message":
        count(step.usage);
        texts.push(step.text);
        break;
      case "shell":
        count(step.usage);
        call("bash", { command: step.command, description: "scripted command" });
        break;
      case "tool":
        count(step.usage);
        call(step.name, step.args);
        break;
      case "mcp":
      case "patch":
        // Neither has a counterpart among an agent's chat tools: say so where the test will see it.
        texts.push(`scripted model: a ${step.type} step is for codex; use a tool step`);
        break;
      case "hang":
      case "http_error":
      case "failed":
        break; // only meaningful as the first step
    }
  }
  if (usage.prompt_tokens === 0) usage.prompt_tokens = 100;
  return { texts, calls, usage, stalls: false };
}
