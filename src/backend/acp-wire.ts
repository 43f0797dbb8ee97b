import { z } from "zod";

// An ACP worker's transcript holds what was said on the wire, one JSON line a message:
// `{"from":"agent"|"baton","message":<JSON-RPC message>}`, and Baton's own account of a conversation
// that failed, `{"from":"baton","error":"..."}`. What the agent said is untrusted: every shape Baton
// reads from it is checked here, and what does not fit is left out (never trusted half-way).

/** The marker every transcript line of an ACP worker starts with; the agent's stderr never does. */
export const LINE_START = '{"from":';

const record = z.record(z.string(), z.unknown());
const id = z.union([z.string(), z.number()]);

/** A JSON-RPC message: a request (id and method), a notification (method), or a response (id). */
export const rpcMessage = z.object({
  id: id.nullish(),
  method: z.string().optional(),
  params: z.unknown().optional(),
  result: z.unknown().optional(),
  error: z.object({ code: z.number(), message: z.string(), data: z.unknown().optional() }).optional(),
});
export type RpcMessage = z.infer<typeof rpcMessage>;

export const transcriptLine = z.union([
  z.object({ from: z.enum(["agent", "baton"]), message: record }),
  z.object({ from: z.literal("baton"), error: z.string() }),
]);
export type TranscriptLine = z.infer<typeof transcriptLine>;

/** The line that records `message` as sent by `from`. */
export const messageLine = (from: "agent" | "baton", message: unknown): string =>
  JSON.stringify({ from, message });

/** The line that records a conversation Baton could not carry on. */
export const errorLine = (error: string): string => JSON.stringify({ from: "baton", error });

const text = z.string().max(16 * 1024 * 1024);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const contentBlock = z.object({ type: z.string(), text: text.optional() });

const location = z.object({ path: text });
const diff = z.object({ type: z.literal("diff"), path: text });

/** What Baton reads of a tool call, announced or updated. */
export const toolCall = z.object({
  toolCallId: z.string(),
  title: text.nullish(),
  kind: z.string().nullish(),
  status: z.string().nullish(),
  locations: z.array(location).nullish().catch(undefined),
  content: z.array(z.unknown()).nullish().catch(undefined),
  rawOutput: z.unknown().optional(),
});

/** The exit code some agents put in a finished command's raw output (opencode's `metadata.exit`). */
export const commandExit = z.object({ metadata: z.object({ exit: z.number().int().min(-255).max(255) }) });
export type ToolCallInfo = z.infer<typeof toolCall>;

/** The paths a tool call names: its locations and the files its diffs change. */
export function pathsOf(call: ToolCallInfo): string[] {
  const paths = (call.locations ?? []).map((l) => l.path);
  for (const item of call.content ?? []) {
    const parsed = diff.safeParse(item);
    if (parsed.success) paths.push(parsed.data.path);
  }
  return [...new Set(paths)];
}

export const sessionUpdate = z.object({
  sessionId: z.string(),
  update: z.object({ sessionUpdate: z.string() }).passthrough(),
});

export const chunk = z.object({ content: contentBlock, messageId: z.string().nullish() });

export const planUpdate = z.object({
  entries: z.array(z.object({ content: text, status: z.string() })),
});

/** ACP's `usage_update`: the context window, and the session's cost so far where the agent knows it. */
export const usageUpdate = z.object({
  used: count.optional(),
  size: count.optional(),
  cost: z.object({ amount: z.number().min(0), currency: z.string() }).nullish(),
});

/**
 * Token counts at the end of a turn: ACP's `usage` on the prompt's response (an unstable part of the
 * protocol), or the Gemini CLI's `_meta.quota.token_count`.
 */
export const promptResult = z.object({
  stopReason: z.string(),
  usage: z
    .object({
      inputTokens: count,
      outputTokens: count,
      thoughtTokens: count.nullish(),
      cachedReadTokens: count.nullish(),
      cachedWriteTokens: count.nullish(),
    })
    .nullish()
    .catch(undefined),
  _meta: z
    .object({
      quota: z.object({ token_count: z.object({ input_tokens: count, output_tokens: count }) }),
    })
    .nullish()
    .catch(undefined),
});

export const newSessionResult = z.object({ sessionId: z.string() });
const modelId = z.string().min(1).max(200);
/** The model a session runs, where the agent says (ACP's unstable `models` of session/new and load). */
export const sessionModels = z.object({ models: z.object({ currentModelId: modelId }) });
/** The session's config options (session/new and load): opencode names its model in the one of category `model`. */
export const sessionConfig = z.object({
  configOptions: z.array(
    z
      .object({ category: z.string().nullish(), currentValue: z.unknown() })
      .passthrough()
      .catch({ category: null, currentValue: null }),
  ),
});

/** The model a session/new or session/load result names: its `models`, else its model config option. */
export function modelOf(result: unknown): string | undefined {
  const models = sessionModels.safeParse(result);
  if (models.success) return models.data.models.currentModelId;
  const config = sessionConfig.safeParse(result);
  if (!config.success) return undefined;
  const option = config.data.configOptions.find((o) => o.category === "model");
  const value = modelId.safeParse(option?.currentValue);
  return value.success ? value.data : undefined;
}
export const loadSessionParams = z.object({ sessionId: z.string() });

export const permissionRequest = z.object({ sessionId: z.string(), toolCall });

/** Baton's answer to a permission request, with its reason in `_meta` (see acp-permission.ts). */
export const permissionAnswer = z.object({
  outcome: z.object({ outcome: z.string(), optionId: z.string().optional() }),
  _meta: z.object({ "baton/allowed": z.boolean(), "baton/why": z.string() }).nullish().catch(undefined),
});

/** An error's own words: its message, and the `details` an agent adds in `data` (the Gemini CLI does). */
export function errorText(error: { code: number; message: string; data?: unknown }): string {
  const details = z.object({ details: z.string().max(2000) }).safeParse(error.data);
  return `${error.message}${details.success ? `: ${details.data.details}` : ""} (ACP error ${error.code})`;
}
