import http from "node:http";
import type { AddressInfo } from "node:net";
import { answerChat } from "./chat-answer.js";
import { type ChatScript, type ChatStep, chatRequest, isTitleRequest } from "./chat-steps.js";
import type { ModelRequest } from "./steps.js";

export interface ScriptedChatOptions {
  readonly script: ChatScript;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
}

/**
 * An OpenAI-compatible Chat Completions server that answers an agent from a script, on loopback: how
 * the tests drive real opencode workers without an account. Every `POST /v1/chat/completions` is one
 * request of the script (see {@link chatRequest} for its session and turn), except a request for a
 * session's title, which it answers itself.
 */
export interface ScriptedChat {
  /** The provider's base URL, ending in `/v1` (the client adds `/chat/completions`). */
  readonly baseUrl: string;
  /** Every model request received, in order (title requests aside). */
  readonly requests: readonly ModelRequest[];
  /** The session of every title request, in order. */
  readonly titles: readonly string[];
  /** Every other request (method and path). */
  readonly stray: readonly string[];
  /**
   * An opencode config whose one provider is this server (`@ai-sdk/openai-compatible`, bundled in
   * opencode) and whose model is `scripted/<model>`: what `OPENCODE_CONFIG_CONTENT` may hold.
   */
  opencodeConfig(model?: string): Record<string, unknown>;
  close(): Promise<void>;
}

/** The title the server gives every conversation that asks for one. */
export const SCRIPTED_TITLE = "Scripted session";

export async function startScriptedChat(options: ScriptedChatOptions): Promise<ScriptedChat> {
  const requests: ModelRequest[] = [];
  const titles: string[] = [];
  const stray: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const path = (req.url ?? "").split("?")[0] ?? "";
      if (req.method !== "POST" || path !== "/v1/chat/completions") {
        stray.push(`${req.method} ${path}`);
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "not found", type: "not_found", code: null } }));
        return;
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
      } catch {
        res.writeHead(400).end("bad json");
        return;
      }
      const sessionId = String(req.headers["x-session-id"] ?? "none");
      const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
      const answer = {
        model: typeof body.model === "string" ? body.model : "scripted-model",
        stream: body.stream === true,
        includeUsage: streamOptions?.include_usage === true,
      };
      if (isTitleRequest(body)) {
        titles.push(sessionId);
        answerChat(res, [{ type: "message", text: SCRIPTED_TITLE }], answer);
        return;
      }
      const request = chatRequest(body, sessionId, raw.length);
      requests.push(request);
      let steps: readonly ChatStep[];
      try {
        const out = options.script(request);
        steps = Array.isArray(out) ? out : [out as ChatStep];
      } catch (error) {
        res.writeHead(500).end(`script failed: ${String(error)}`);
        return;
      }
      answerChat(res, steps, answer);
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
    titles,
    stray,
    opencodeConfig: (model = "scripted-model") => ({
      provider: {
        scripted: {
          npm: "@ai-sdk/openai-compatible",
          name: "Scripted",
          options: { baseURL: baseUrl, apiKey: "scripted-key" },
          models: { [model]: { name: model } },
        },
      },
      model: `scripted/${model}`,
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
