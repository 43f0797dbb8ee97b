/** What the scripted model answers to one request. */
export type ScriptStep =
  /** A final assistant message. */
  | { readonly type: "message"; readonly text: string; readonly usage?: Partial<StepUsage> }
  /** A shell command codex should run (`exec_command`); codex calls back with its output. */
  | { readonly type: "shell"; readonly command: string; readonly usage?: Partial<StepUsage> }
  /** A file edit, sent the way codex expects it: `apply_patch` through `exec_command`. */
  | { readonly type: "patch"; readonly patch: string }
  /** A call to a tool of an MCP server that codex was configured with. */
  | { readonly type: "mcp"; readonly server: string; readonly tool: string; readonly args: unknown }
  /**
   * An HTTP error status instead of a stream. `retryAfterMs` adds a `retry-after-ms` header, which
   * agents that retry on their own (opencode) wait for instead of their own backoff.
   */
  | {
      readonly type: "http_error";
      readonly status: number;
      readonly body?: string;
      readonly retryAfterMs?: number;
    }
  /** Never send response headers. */
  | { readonly type: "hang" }
  /** Send headers and `response.created`, then go silent. */
  | { readonly type: "stall" }
  /** A `response.failed` event in the stream. */
  | { readonly type: "failed"; readonly code: string; readonly message: string };

export interface StepUsage {
  readonly input_tokens: number;
  readonly output_tokens: number;
}

/** One request as the scripted model received it. */
export interface ModelRequest {
  /** The `session-id` header codex sends: one per codex thread. */
  readonly sessionId: string;
  /** 0-based index of this request within its session. */
  readonly turn: number;
  /** The text of every user message in the request's input, joined by newlines. */
  readonly userText: string;
  /** The output of the most recent tool call in the input, if any. */
  readonly lastToolOutput: string | undefined;
  /** The output of every tool call in the input, oldest first: what the model has been shown. */
  readonly toolOutputs: readonly string[];
  /** The raw request body. */
  readonly body: Record<string, unknown>;
  /** The raw body's size in bytes. */
  readonly bytes: number;
}

export type Script = (request: ModelRequest) => ScriptStep | readonly ScriptStep[];

export const message = (text: string, usage?: Partial<StepUsage>): ScriptStep => ({
  type: "message",
  text,
  ...(usage ? { usage } : {}),
});
export const shell = (command: string): ScriptStep => ({ type: "shell", command });
export const patch = (patchText: string): ScriptStep => ({ type: "patch", patch: patchText });
