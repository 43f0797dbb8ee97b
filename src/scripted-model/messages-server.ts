import http from "node:http";
import type { AddressInfo } from "node:net";
import { answerMessages } from "./messages-answer.js";
import { type MessagesScript, type MessagesStep, messagesRequest } from "./messages-steps.js";
import type { ModelRequest } from "./steps.js";

export interface ScriptedMessagesOptions {
  readonly script: MessagesScript;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
}

/**
 * An Anthropic Messages API server that answers Claude Code from a script, on loopback: how the tests
 * drive real `claude -p` workers without an account. Every `POST /v1/messages` is one request of the
 * script; `turn` counts requests per Claude Code session (its `x-claude-code-session-id` header, kept
 * across `--resume`).
 */
export interface ScriptedMessages {
  /** What `ANTHROPIC_BASE_URL` should be (no `/v1`: Claude Code adds it). */
  readonly baseUrl: string;
  /** Every request received, in order. */
  readonly requests: readonly ModelRequest[];
  /** Every other request (method and path): Claude Code sends none when its non-essential traffic is off. */
  readonly stray: readonly string[];
  /** The variables that point Claude Code at this server. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export async function startScriptedMessages(options: ScriptedMessagesOptions): Promise<ScriptedMessages> {
  const requests: ModelRequest[] = [];
  const stray: string[] = [];
  const turns = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const path = (req.url ?? "").split("?")[0];
      if (req.method !== "POST" || path !== "/v1/messages") {
        stray.push(`${req.method} ${path}`);
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: "not found" } }));
        return;
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
      } catch {
        res.writeHead(400).end("bad json");
        return;
      }
      const sessionId = String(req.headers["x-claude-code-session-id"] ?? "none");
      const turn = turns.get(sessionId) ?? 0;
      turns.set(sessionId, turn + 1);
      const request = messagesRequest(body, sessionId, turn, raw.length);
      requests.push(request);
      let steps: readonly MessagesStep[];
      try {
        const out = options.script(request);
        steps = Array.isArray(out) ? out : [out as MessagesStep];
      } catch (error) {
        res.writeHead(500).end(`script failed: ${String(error)}`);
        return;
      }
      answerMessages(res, steps, {
        stream: body.stream === true,
        model: typeof body.model === "string" ? body.model : "scripted",
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const baseUrl = `http://${address}:${port}`;
  return {
    baseUrl,
    requests,
    stray,
    env: () => ({ ANTHROPIC_BASE_URL: baseUrl, ANTHROPIC_API_KEY: "scripted-key" }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
