import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { ModelRequest, Script, ScriptStep } from "./steps.js";

export interface ScriptedModelOptions {
  readonly script: Script;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /**
   * How long the model thinks before each answer, in ms: what a real model takes to its first token,
   * for measurements that should not see an agent answered at once.
   * @default 0
   */
  readonly delayMs?: number;
}

/**
 * A Responses-API server that answers codex from a script, on loopback.
 * This is how the tests, the demo and the benchmarks drive real codex workers without an account.
 */
export interface ScriptedModel {
  /** The provider base URL, ending in `/v1`. */
  readonly baseUrl: string;
  /** Every request received, in order. */
  readonly requests: readonly ModelRequest[];
  /**
   * The first request `matches` accepts, received already or when it comes (before it is answered);
   * rejects when `signal` aborts.
   */
  asked(matches: (request: ModelRequest) => boolean, signal?: AbortSignal): Promise<ModelRequest>;
  /** Writes a `config.toml` into `codexHome` that points codex at this server; `extraToml` goes on top. */
  writeCodexHome(codexHome: string, extraToml?: string): Promise<void>;
  close(): Promise<void>;
}

export const SCRIPTED_KEY_ENV = "SCRIPTED_KEY";

export async function startScriptedModel(options: ScriptedModelOptions): Promise<ScriptedModel> {
  const requests: ModelRequest[] = [];
  const waiting = new Set<(request: ModelRequest) => void>();
  /** What `close` ends: the `asked` calls still waiting. */
  const closing = new Set<() => void>();
  const turns = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      if (req.method !== "POST" || !req.url?.endsWith("/responses")) {
        res.writeHead(404).end();
        return;
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
      } catch {
        res.writeHead(400).end("bad json");
        return;
      }
      const sessionId = String(req.headers["session-id"] ?? req.headers["thread-id"] ?? "none");
      const turn = turns.get(sessionId) ?? 0;
      turns.set(sessionId, turn + 1);
      const request: ModelRequest = {
        sessionId,
        turn,
        userText: userTextOf(body),
        lastToolOutput: toolOutputsOf(body).at(-1),
        toolOutputs: toolOutputsOf(body),
        body,
        bytes: raw.length,
      };
      requests.push(request);
      for (const wake of [...waiting]) wake(request);
      let steps: readonly ScriptStep[];
      try {
        const out = options.script(request);
        steps = Array.isArray(out) ? out : [out as ScriptStep];
      } catch (error) {
        res.writeHead(500).end(`script failed: ${String(error)}`);
        return;
      }
      if (options.delayMs) setTimeout(() => answer(res, steps), options.delayMs);
      else answer(res, steps);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const baseUrl = `http://${address}:${port}/v1`;
  return {
    baseUrl,
    requests,
    asked(matches, signal) {
      const found = requests.find(matches);
      if (found) return Promise.resolve(found);
      return new Promise<ModelRequest>((resolve, reject) => {
        const wake = (request: ModelRequest) => {
          let matched: boolean;
          try {
            matched = matches(request);
          } catch (error) {
            end(error);
            return;
          }
          if (!matched) return;
          done();
          resolve(request);
        };
        const end = (reason: unknown) => {
          done();
          reject(reason);
        };
        const abort = () => end(signal?.reason ?? new Error("aborted"));
        const closed = () => end(new Error("the scripted model was closed before it was asked"));
        const done = () => {
          waiting.delete(wake);
          closing.delete(closed);
          signal?.removeEventListener("abort", abort);
        };
        if (signal?.aborted) return abort();
        closing.add(closed);
        waiting.add(wake);
        signal?.addEventListener("abort", abort, { once: true });
      });
    },
    async writeCodexHome(codexHome, extraToml = "") {
      await mkdir(codexHome, { recursive: true, mode: 0o700 });
      // Top-level keys must come before the provider table, or TOML would put them inside it.
      await writeFile(join(codexHome, "config.toml"), `${extraToml}\n${codexConfigToml(baseUrl)}`, {
        mode: 0o600,
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const end of [...closing]) end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A codex `config.toml` that sends every request to `baseUrl`, without retries. */
export function codexConfigToml(baseUrl: string): string {
  return [
    // A login shell would source the user's profile before every command: seconds, and noise.
    "allow_login_shell = false",
    'model = "fake-model"',
    'model_provider = "scripted"',
    "[model_providers.scripted]",
    'name = "scripted"',
    `base_url = "${baseUrl}"`,
    'wire_api = "responses"',
    `env_key = "${SCRIPTED_KEY_ENV}"`,
    "request_max_retries = 0",
    "stream_max_retries = 0",
    "",
  ].join("\n");
}

function answer(res: http.ServerResponse, steps: readonly ScriptStep[]): void {
  const first = steps[0];
  if (first?.type === "hang") return; // keep the socket open, send nothing
  if (first?.type === "http_error") {
    res.writeHead(first.status, { "content-type": "application/json" });
    res.end(first.body ?? JSON.stringify({ error: { message: `scripted HTTP ${first.status}` } }));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const id = `resp_${randomUUID()}`;
  const send = (type: string, data: Record<string, unknown>) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  send("response.created", { response: { id } });
  let usage = { input_tokens: 0, output_tokens: 0 };
  for (const step of steps) {
    switch (step.type) {
      case "stall":
        return; // headers and response.created sent; nothing more
      case "failed":
        send("response.failed", { response: { id, error: { code: step.code, message: step.message } } });
        res.end();
        return;
      case "message":
        usage = {
          input_tokens: usage.input_tokens + (step.usage?.input_tokens ?? 100),
          output_tokens: usage.output_tokens + (step.usage?.output_tokens ?? 10),
        };
        send("response.output_item.done", {
          item: {
            type: "message",
            role: "assistant",
            id: `msg_${randomUUID()}`,
            content: [{ type: "output_text", text: step.text }],
          },
        });
        break;
      case "shell":
      case "patch":
        if (step.type === "shell" && step.usage) {
          usage = {
            input_tokens: usage.input_tokens + (step.usage.input_tokens ?? 0),
            output_tokens: usage.output_tokens + (step.usage.output_tokens ?? 0),
          };
        }
        send("response.output_item.done", {
          item: {
            type: "function_call",
            id: `fc_${randomUUID()}`,
            call_id: `call_${randomUUID()}`,
            name: "exec_command",
            arguments: JSON.stringify({
              cmd: step.type === "shell" ? step.command : `apply_patch <<'EOF'\n${step.patch}\nEOF\n`,
            }),
          },
        });
        break;
      case "mcp":
        send("response.output_item.done", {
          item: {
            type: "function_call",
            id: `fc_${randomUUID()}`,
            call_id: `call_${randomUUID()}`,
            namespace: `mcp__${step.server}`,
            name: step.tool,
            arguments: JSON.stringify(step.args ?? {}),
          },
        });
        break;
      case "hang":
      case "http_error":
        break; // only meaningful as the first step
    }
  }
  send("response.completed", {
    response: { id, usage: { ...usage, total_tokens: usage.input_tokens + usage.output_tokens } },
  });
  res.end();
}

type InputItem = { type?: string; role?: string; content?: unknown; output?: unknown };

function userTextOf(body: Record<string, unknown>): string {
  return userMessagesOf(body).join("\n");
}

/** The text of each user message of a Responses request, in order: the last is the newest turn's. */
export function userMessagesOf(body: Record<string, unknown>): string[] {
  const input = Array.isArray(body.input) ? (body.input as InputItem[]) : [];
  const messages: string[] = [];
  for (const item of input) {
    if (item.type !== "message" || item.role !== "user" || !Array.isArray(item.content)) continue;
    const texts: string[] = [];
    for (const part of item.content as { type?: string; text?: string }[]) {
      if (part.type === "input_text" && typeof part.text === "string") texts.push(part.text);
    }
    if (texts.length > 0) messages.push(texts.join("\n"));
  }
  return messages;
}

function toolOutputsOf(body: Record<string, unknown>): string[] {
  const input = Array.isArray(body.input) ? (body.input as InputItem[]) : [];
  const outputs: string[] = [];
  for (const item of input) {
    if (item?.type !== "function_call_output" && item?.type !== "custom_tool_call_output") continue;
    const output = item.output;
    if (typeof output === "string") outputs.push(output);
    else if (Array.isArray(output))
      outputs.push((output as { text?: string }[]).map((part) => part.text ?? "").join(""));
    else outputs.push(JSON.stringify(output));
  }
  return outputs;
}
