import type http from "node:http";
import type { GeminiStep } from "./gemini-steps.js";

// How the scripted Gemini server answers: an HTTP error, silence, or one model turn as a server-sent
// event stream (`alt=sse`), the way the Gemini API streams `streamGenerateContent`: each event a
// `GenerateContentResponse`, the last one with a `finishReason` and the turn's usage.

type Json = Record<string, unknown>;

/** Google's status names for the HTTP codes a script may use. */
const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: "INVALID_ARGUMENT",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

/** Plays `steps` as the answer to one request for `model`. */
export function answerGemini(res: http.ServerResponse, steps: readonly GeminiStep[], model: string): void {
  const first = steps[0];
  if (first?.type === "hang") return; // keep the socket open, send nothing
  if (first?.type === "http_error" || first?.type === "failed") {
    const code = first.type === "failed" ? 400 : first.status;
    const message = first.type === "failed" ? first.message : `scripted HTTP ${code}`;
    res.writeHead(code, { "content-type": "application/json" });
    res.end(
      first.type === "http_error" && first.body
        ? first.body
        : JSON.stringify({ error: { code, message, status: STATUS_NAMES[code] ?? "UNKNOWN" } }),
    );
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const send = (parts: readonly Json[], end?: { finishReason: string; usage: Usage }) =>
    res.write(
      `data: ${JSON.stringify({
        candidates: [
          { content: { role: "model", parts }, index: 0, ...(end ? { finishReason: end.finishReason } : {}) },
        ],
        ...(end ? { usageMetadata: usageMetadata(end.usage) } : {}),
        modelVersion: model,
      })}\n\n`,
    );
  const usage: Usage = { input: 0, output: 0 };
  const count = (used: { input_tokens?: number; output_tokens?: number } | undefined) => {
    usage.input += used?.input_tokens ?? 100;
    usage.output += used?.output_tokens ?? 10;
  };
  const parts: Json[] = [];
  for (const step of steps) {
    switch (step.type) {
      case "stall":
        return; // headers sent; nothing more
      case "invalid":
        // Text, then the end of the stream without a finishReason.
        send([{ text: step.text ?? "an answer that never ends" }]);
        res.end();
        return;
      case "message":
        count(step.usage);
        parts.push({ text: step.text });
        break;
      case "shell":
        count(step.usage);
        parts.push({ functionCall: { name: "run_shell_command", args: { command: step.command } } });
        break;
      case "tool":
        count(step.usage);
        parts.push({ functionCall: { name: step.name, args: step.args } });
        break;
      case "mcp":
      case "patch":
        // Neither has a Gemini CLI counterpart here: say so where the test will see it.
        parts.push({ text: `scripted model: a ${step.type} step is for codex; use a tool step` });
        break;
      case "hang":
      case "http_error":
      case "failed":
        break; // only meaningful as the first step
    }
  }
  if (usage.input === 0) usage.input = 100;
  // Text streams in two chunks, as a real model's does; calls come whole; the last chunk ends the turn.
  const chunks: Json[][] = [];
  for (const part of parts) {
    if (typeof part.text !== "string") continue;
    const half = Math.ceil(part.text.length / 2);
    chunks.push([{ text: part.text.slice(0, half) }]);
    if (part.text.length > half) chunks.push([{ text: part.text.slice(half) }]);
  }
  const calls = parts.filter((part) => part.functionCall);
  if (calls.length > 0 || chunks.length === 0) chunks.push(calls);
  chunks.forEach((chunk, i) => {
    send(chunk, i === chunks.length - 1 ? { finishReason: "STOP", usage } : undefined);
  });
  res.end();
}

interface Usage {
  input: number;
  output: number;
}

function usageMetadata(usage: Usage): Json {
  return {
    promptTokenCount: usage.input,
    candidatesTokenCount: usage.output,
    totalTokenCount: usage.input + usage.output,
  };
}
