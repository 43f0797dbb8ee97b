import http from "node:http";
import type { AddressInfo } from "node:net";
import { answerGemini } from "./gemini-answer.js";
import { type GeminiScript, type GeminiStep, geminiRequest } from "./gemini-steps.js";
import type { ModelRequest } from "./steps.js";

export interface ScriptedGeminiOptions {
  readonly script: GeminiScript;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
}

/**
 * A Gemini API server that answers the Gemini CLI from a script, on loopback: how the tests drive real
 * `gemini` workers without an account. Every `POST /v1beta/models/{model}:streamGenerateContent` is
 * one request of the script (see {@link geminiRequest} for its session and turn).
 */
export interface ScriptedGemini {
  /** What `GOOGLE_GEMINI_BASE_URL` should be (no version: the CLI adds `/v1beta`). */
  readonly baseUrl: string;
  /** Every model request received, in order. */
  readonly requests: readonly ModelRequest[];
  /** Every other request (method and path): none, when the CLI runs with usage statistics off. */
  readonly stray: readonly string[];
  /** The variables that point the Gemini CLI at this server. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

const MODEL_PATH = /^\/v1beta\/models\/([^/:]+):streamGenerateContent$/;

export async function startScriptedGemini(options: ScriptedGeminiOptions): Promise<ScriptedGemini> {
  const requests: ModelRequest[] = [];
  const stray: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const path = (req.url ?? "").split("?")[0] ?? "";
      const model = MODEL_PATH.exec(path)?.[1];
      if (req.method !== "POST" || !model) {
        stray.push(`${req.method} ${path}`);
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: 404, message: "not found", status: "NOT_FOUND" } }));
        return;
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
      } catch {
        res.writeHead(400).end("bad json");
        return;
      }
      const request = geminiRequest(body, raw.length);
      requests.push(request);
      let steps: readonly GeminiStep[];
      try {
        const out = options.script(request);
        steps = Array.isArray(out) ? out : [out as GeminiStep];
      } catch (error) {
        res.writeHead(500).end(`script failed: ${String(error)}`);
        return;
      }
      answerGemini(res, steps, decodeURIComponent(model));
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
    env: () => ({ GOOGLE_GEMINI_BASE_URL: baseUrl, GEMINI_API_KEY: "scripted-key" }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
