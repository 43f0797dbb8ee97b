import { THREAD_ID, type Usage } from "../worker/types.js";
import type { AgentEvent, OutputParser } from "./backend.js";

// The lines of `gemini -o stream-json` (Gemini CLI 0.61.0), read as untrusted input: one JSON object a
// line, `\r\n` and the CLI's stderr mixed in when it runs in a terminal. Unknown kinds are ignored.
// See docs/backends.md for what each kind becomes.

type Json = Record<string, unknown>;

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);
const obj = (value: unknown): Json => (value && typeof value === "object" ? (value as Json) : {});

/** The Gemini CLI's tools that change a file, all of which name it in `file_path`. */
const FILE_TOOLS = new Set(["write_file", "replace"]);
const SHELL = "run_shell_command";

/**
 * What the CLI prints on stderr when it cannot start or go on: a bad resume id, an untrusted folder,
 * an auth or config error, an unexpected crash. Its warnings (colours, ripgrep, YOLO mode) are not.
 */
const STDERR_ERROR =
  /^(Error( |:)|\[ERROR\]|FatalError|An unexpected critical error|Invalid auth|Gemini CLI is not running in a trusted|No input provided)/;

/**
 * A parser for one Gemini CLI process. It is stateful: the assistant's text comes in deltas, gathered
 * into one message that ends at the next tool call or at the result (the final answer is the text
 * after the last tool result), and a tool's result is matched to its call.
 */
export function geminiParser(): OutputParser {
  const calls = new Map<string, { name: string; parameters: Json }>();
  let text = "";
  /** The last error the CLI reported in its stream: a failed result that gives none is put down to it. */
  let lastError: string | undefined;

  const flush = (): AgentEvent[] => {
    const said = text;
    text = "";
    return said.trim() ? [{ type: "message", text: said }] : [];
  };

  const toolUse = (line: Json): AgentEvent[] => {
    const events = flush();
    const name = str(line.tool_name) ?? "";
    const parameters = obj(line.parameters);
    const id = str(line.tool_id);
    if (id) calls.set(id, { name, parameters });
    if (name === SHELL) {
      const command = str(parameters.command) ?? "";
      events.push({ type: "command", command, status: "in_progress", exitCode: undefined });
    }
    return events;
  };

  const toolResult = (line: Json): AgentEvent[] => {
    // Text the model wrote before this call was answered is not part of the final answer.
    const events = flush();
    const call = calls.get(str(line.tool_id) ?? "");
    if (!call) return events;
    const status = line.status === "success" ? "completed" : "failed";
    if (call.name === SHELL) {
      // The stream does not say how the command exited (the model is told, in the tool's output).
      events.push({
        type: "command",
        command: str(call.parameters.command) ?? "",
        status,
        exitCode: undefined,
      });
    } else if (FILE_TOOLS.has(call.name) && status === "completed" && str(call.parameters.file_path)) {
      events.push({ type: "file_change", paths: [str(call.parameters.file_path) ?? ""] });
    } else {
      events.push({ type: "tool_call", server: "gemini", tool: call.name, status });
    }
    return events;
  };

  const result = (line: Json): AgentEvent[] => {
    const events = flush();
    // The model that answered, where the stats name one only (the CLI keys them by the served version).
    const served = Object.keys(obj(obj(line.stats).models));
    if (served.length === 1 && served[0] && served[0].length <= 200)
      events.push({ type: "model", model: served[0] });
    events.push({ type: "turn_completed", usage: usageOf(obj(line.stats)) });
    if (line.status !== "success") {
      const error = obj(line.error);
      const message = str(error.message) ?? lastError ?? "the Gemini CLI reported an error";
      const kind = str(error.type);
      events.push({
        type: "turn_failed",
        message: kind && kind !== "unknown" && !message.includes(kind) ? `${kind}: ${message}` : message,
      });
    }
    return events;
  };

  return {
    line(raw) {
      // A terminal may put a control sequence before a line; stderr comes as plain text.
      const plain = raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").trim();
      if (!plain.startsWith("{")) {
        if (!STDERR_ERROR.test(plain)) return [];
        lastError = plain;
        return [{ type: "error", message: plain }];
      }
      let line: Json;
      try {
        line = obj(JSON.parse(plain));
      } catch {
        return [];
      }
      switch (line.type) {
        case "init": {
          // The id becomes an argument of `--resume` and part of a folder's name: only an id's shape is kept.
          const id = str(line.session_id);
          const model = str(line.model);
          return [
            ...(id && THREAD_ID.test(id) ? [{ type: "thread" as const, threadId: id }] : []),
            ...(model && model.length <= 200 ? [{ type: "model" as const, model }] : []),
            { type: "turn_started" },
          ];
        }
        case "message":
          if (line.role === "assistant")
            text = line.delta === true ? text + (str(line.content) ?? "") : (str(line.content) ?? "");
          return [];
        case "tool_use":
          return toolUse(line);
        case "tool_result":
          return toolResult(line);
        case "error": {
          const message = str(line.message) ?? "error";
          if (line.severity !== "warning") lastError = message;
          return [{ type: "error", message: line.severity === "warning" ? `warning: ${message}` : message }];
        }
        case "result":
          return result(line);
        default:
          return [];
      }
    },
  };
}

/**
 * `result.stats` as Baton's usage: input counts cached tokens too (`input_tokens` is the prompt's
 * count); what the total has beyond input and output (the model's thoughts) is output, as reasoning.
 */
export function usageOf(stats: Json): Usage {
  const input = num(stats.input_tokens);
  const output = num(stats.output_tokens);
  const thoughts = Math.max(0, num(stats.total_tokens) - input - output);
  return {
    inputTokens: input,
    cachedInputTokens: num(stats.cached),
    outputTokens: output + thoughts,
    reasoningOutputTokens: thoughts,
  };
}
