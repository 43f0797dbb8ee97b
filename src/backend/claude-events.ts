import { THREAD_ID, type Usage, ZERO_USAGE } from "../worker/types.js";
import type { AgentEvent, OutputParser } from "./backend.js";

// The lines of `claude -p --output-format stream-json --verbose` (Claude Code 2.1.332), read as
// untrusted input: one JSON object a line, `\r\n` and stderr mixed in when it runs in a terminal.
// Unknown kinds are ignored. See docs/backends.md for what each kind becomes.

type Json = Record<string, unknown>;

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);
const obj = (value: unknown): Json => (value && typeof value === "object" ? (value as Json) : {});
const list = (value: unknown): Json[] => (Array.isArray(value) ? value.map(obj) : []);

/** Claude Code's tools that change a file, and the input field that names it. */
const FILE_TOOLS: Readonly<Record<string, string>> = {
  Edit: "file_path",
  Write: "file_path",
  NotebookEdit: "notebook_path",
};

/** What Claude Code prints on stderr when it cannot start a run (seen merged into the terminal). */
const STDERR_ERROR = /^(Error: |No conversation found|Not logged in|Invalid API key)/;

/**
 * A parser for one Claude Code process. It is stateful: usage is counted once per model response
 * (several `assistant` lines share a message id), and a tool's result is matched to its call.
 */
export function claudeParser(): OutputParser {
  const seen = new Set<string>();
  const calls = new Map<string, { name: string; input: Json }>();
  /** Usage of the responses seen since the last `result`, and what results already accounted for. */
  let running: Usage = ZERO_USAGE;
  let settled: Usage = ZERO_USAGE;
  let lastText: string | undefined;
  let lastModel: string | undefined;
  /** A model event when the model named is new: the init line's, then each response's own. */
  const modelEvent = (value: unknown): AgentEvent[] => {
    const model = str(value);
    if (!model || model.length > 200 || model === lastModel) return [];
    lastModel = model;
    return [{ type: "model", model }];
  };

  const assistant = (line: Json): AgentEvent[] => {
    const message = obj(line.message);
    const blocks = list(message.content);
    // Claude Code words its own failures (an API error after its retries) as a made-up message.
    if (message.model === "<synthetic>") {
      const text = blocks.map((b) => str(b.text) ?? "").join("");
      return text ? [{ type: "error", message: text }] : [];
    }
    const events: AgentEvent[] = modelEvent(message.model);
    const id = str(message.id);
    if (id && !seen.has(id) && line.parent_tool_use_id == null) {
      seen.add(id);
      running = plus(running, usageOf(obj(message.usage)));
      events.push({ type: "usage", usage: plus(settled, running) });
    }
    for (const block of blocks) {
      if (block.type === "text" && str(block.text)) {
        lastText = str(block.text);
        events.push({ type: "message", text: lastText ?? "" });
      } else if (block.type === "thinking" && str(block.thinking)) {
        events.push({ type: "reasoning", text: str(block.thinking) ?? "" });
      } else if (block.type === "tool_use") {
        const name = str(block.name) ?? "";
        const input = obj(block.input);
        const callId = str(block.id);
        if (callId) calls.set(callId, { name, input });
        if (name === "Bash")
          events.push({
            type: "command",
            command: str(input.command) ?? "",
            status: "in_progress",
            exitCode: undefined,
          });
      }
    }
    return events;
  };

  const toolResults = (line: Json): AgentEvent[] => {
    const events: AgentEvent[] = [];
    for (const block of list(obj(line.message).content)) {
      if (block.type !== "tool_result") continue;
      const call = calls.get(str(block.tool_use_id) ?? "");
      if (!call) continue;
      const failed = block.is_error === true;
      const status = failed ? "failed" : "completed";
      if (call.name === "Bash") {
        const code = /^Exit code (\d+)/.exec(textOf(block.content));
        events.push({
          type: "command",
          command: str(call.input.command) ?? "",
          status,
          exitCode: failed ? (code ? Number(code[1]) : undefined) : 0,
        });
      } else if (FILE_TOOLS[call.name]) {
        const path = str(call.input[FILE_TOOLS[call.name] ?? ""]);
        if (!failed && path) events.push({ type: "file_change", paths: [path] });
        else events.push({ type: "tool_call", server: "claude", tool: call.name, status });
      } else {
        const mcp = /^mcp__(.+?)__(.+)$/.exec(call.name);
        events.push({
          type: "tool_call",
          server: mcp?.[1] ?? "claude",
          tool: mcp?.[2] ?? call.name,
          status,
        });
      }
    }
    return events;
  };

  const result = (line: Json): AgentEvent[] => {
    // A result's usage counts the whole process so far; what earlier results counted is not counted twice.
    const total = usageOf(obj(line.usage));
    const turn = minus(total, settled);
    settled = max(total, plus(settled, running));
    running = ZERO_USAGE;
    const cost = typeof line.total_cost_usd === "number" ? line.total_cost_usd : undefined;
    const completed: AgentEvent = {
      type: "turn_completed",
      usage: turn,
      ...(cost !== undefined && Number.isFinite(cost) ? { costUsd: cost } : {}),
    };
    const text = str(line.result);
    if (line.is_error === false && line.subtype === "success") {
      const answer: AgentEvent[] = text !== undefined && text !== lastText ? [{ type: "message", text }] : [];
      lastText = text;
      return [...answer, completed];
    }
    const why =
      text ||
      list(line.errors)
        .map((e) => str(e.message) ?? JSON.stringify(e))
        .join("; ");
    const subtype = str(line.subtype) ?? "error";
    return [completed, { type: "turn_failed", message: why ? `${subtype}: ${why}` : subtype }];
  };

  return {
    line(text) {
      // A terminal may put a control sequence (show cursor) before a line; stderr comes as plain text.
      const plain = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").trim();
      if (!plain.startsWith("{")) return STDERR_ERROR.test(plain) ? [{ type: "error", message: plain }] : [];
      let line: Json;
      try {
        line = obj(JSON.parse(plain));
      } catch {
        return [];
      }
      switch (line.type) {
        case "system":
          return [...system(line), ...(line.subtype === "init" ? modelEvent(line.model) : [])];
        case "assistant":
          return assistant(line);
        case "user":
          return toolResults(line);
        case "result":
          return result(line);
        default:
          return [];
      }
    },
  };
}

function system(line: Json): AgentEvent[] {
  if (line.subtype === "init") {
    // The id becomes an argument of `--resume` and part of a folder's name: only an id's shape is kept.
    const id = str(line.session_id);
    return [
      ...(id && THREAD_ID.test(id) ? [{ type: "thread" as const, threadId: id }] : []),
      { type: "turn_started" },
    ];
  }
  if (line.subtype === "api_retry") {
    const status = line.error_status == null ? (str(line.error) ?? "no response") : String(line.error_status);
    return [
      {
        type: "error",
        message: `model request failed (${status}); retry ${num(line.attempt)} of ${num(line.max_retries)} in ${(num(line.retry_delay_ms) / 1000).toFixed(1)} s`,
      },
    ];
  }
  if (line.subtype === "permission_denied") {
    return [{ type: "tool_call", server: "claude", tool: str(line.tool_name) ?? "", status: "denied" }];
  }
  return [];
}

/** A Messages API usage object as Baton's usage: input counts cached and cache-written tokens too. */
function usageOf(usage: Json): Usage {
  const cached = num(usage.cache_read_input_tokens);
  return {
    inputTokens: num(usage.input_tokens) + cached + num(usage.cache_creation_input_tokens),
    cachedInputTokens: cached,
    outputTokens: num(usage.output_tokens),
    reasoningOutputTokens: 0,
  };
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  return list(content)
    .map((part) => str(part.text) ?? "")
    .join("");
}

function plus(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningOutputTokens: a.reasoningOutputTokens + b.reasoningOutputTokens,
  };
}

function minus(a: Usage, b: Usage): Usage {
  return {
    inputTokens: Math.max(0, a.inputTokens - b.inputTokens),
    cachedInputTokens: Math.max(0, a.cachedInputTokens - b.cachedInputTokens),
    outputTokens: Math.max(0, a.outputTokens - b.outputTokens),
    reasoningOutputTokens: Math.max(0, a.reasoningOutputTokens - b.reasoningOutputTokens),
  };
}

function max(a: Usage, b: Usage): Usage {
  return {
    inputTokens: Math.max(a.inputTokens, b.inputTokens),
    cachedInputTokens: Math.max(a.cachedInputTokens, b.cachedInputTokens),
    outputTokens: Math.max(a.outputTokens, b.outputTokens),
    reasoningOutputTokens: Math.max(a.reasoningOutputTokens, b.reasoningOutputTokens),
  };
}
