import { randomUUID } from "node:crypto";
import type http from "node:http";
import type { MessagesStep } from "./messages-steps.js";

// How the scripted Messages server answers: an HTTP error, silence, or one assistant message, as a
// server-sent event stream (`stream: true`, what Claude Code asks for) or as one JSON message (its
// fallback after a failed stream). Only the events and fields Claude Code reads are sent.

type Json = Record<string, unknown>;

interface Usage {
  input_tokens: number;
  output_tokens: number;
}

/** Plays `steps` as the answer to one request. */
export function answerMessages(
  res: http.ServerResponse,
  steps: readonly MessagesStep[],
  options: { readonly stream: boolean; readonly model: string },
): void {
  const first = steps[0];
  if (first?.type === "hang") return; // keep the socket open, send nothing
  if (first?.type === "http_error" || first?.type === "failed") {
    const status = first.type === "failed" ? 400 : first.status;
    const kind = status >= 500 ? "api_error" : "invalid_request_error";
    const message = first.type === "failed" ? first.message : `scripted HTTP ${status}`;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(
      first.type === "http_error" && first.body
        ? first.body
        : JSON.stringify({ type: "error", error: { type: kind, message } }),
    );
    return;
  }
  const { content, usage, stalls } = contentOf(steps);
  const toolUse = content.some((block) => block.type === "tool_use");
  const message = {
    id: `msg_${randomUUID().replaceAll("-", "")}`,
    type: "message",
    role: "assistant",
    model: options.model,
    stop_sequence: null,
  };
  if (!options.stream) {
    if (stalls) return; // a stalled stream's fallback request never answers either
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ...message, content, stop_reason: toolUse ? "tool_use" : "end_turn", usage }));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const send = (type: string, data: Json) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  send("message_start", {
    message: {
      ...message,
      content: [],
      stop_reason: null,
      usage: { input_tokens: usage.input_tokens, output_tokens: 1 },
    },
  });
  if (stalls) return; // headers and message_start sent; nothing more
  for (const [index, block] of content.entries()) {
    if (block.type === "text") {
      send("content_block_start", { index, content_block: { type: "text", text: "" } });
      send("content_block_delta", { index, delta: { type: "text_delta", text: block.text } });
    } else {
      send("content_block_start", {
        index,
        content_block: { type: "tool_use", id: block.id, name: block.name, input: {} },
      });
      send("content_block_delta", {
        index,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) },
      });
    }
    send("content_block_stop", { index });
  }
  send("message_delta", {
    delta: { stop_reason: toolUse ? "tool_use" : "end_turn", stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  send("message_stop", {});
  res.end();
}

type Content =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Readonly<Json> };

/** The content blocks and usage of the steps' message; `stalls` when a step says to go silent. */
function contentOf(steps: readonly MessagesStep[]): { content: Content[]; usage: Usage; stalls: boolean } {
  const content: Content[] = [];
  const usage: Usage = { input_tokens: 0, output_tokens: 0 };
  const count = (used: { input_tokens?: number; output_tokens?: number } | undefined, dflt: Usage) => {
    usage.input_tokens += used?.input_tokens ?? dflt.input_tokens;
    usage.output_tokens += used?.output_tokens ?? dflt.output_tokens;
  };
  const tool = (name: string, input: Readonly<Json>) =>
    content.push({ type: "tool_use", id: `toolu_${randomUUID().replaceAll("-", "")}`, name, input });
  for (const step of steps) {
    switch (step.type) {
      case "stall":
        return { content, usage, stalls: true };
      case "message":
        count(step.usage, { input_tokens: 100, output_tokens: 10 });
        content.push({ type: "text", text: step.text });
        break;
      case "shell":
        count(step.usage, { input_tokens: 100, output_tokens: 10 });
        tool("Bash", { command: step.command, description: "scripted command" });
        break;
      case "tool":
        count(step.usage, { input_tokens: 100, output_tokens: 10 });
        tool(step.name, step.input);
        break;
      case "mcp":
        count(undefined, { input_tokens: 100, output_tokens: 10 });
        tool(`mcp__${step.server}__${step.tool}`, (step.args ?? {}) as Json);
        break;
      case "patch":
        // codex's apply_patch has no Claude Code counterpart: say so where the test will see it.
        content.push({
          type: "text",
          text: "scripted model: a patch step is for codex; use a Write or Edit tool step",
        });
        break;
      case "hang":
      case "http_error":
      case "failed":
        break; // only meaningful as the first step
    }
  }
  if (usage.input_tokens === 0) usage.input_tokens = 100;
  return { content, usage, stalls: false };
}
