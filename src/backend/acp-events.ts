import { THREAD_ID, type Usage, ZERO_USAGE } from "../worker/types.js";
import {
  chunk,
  commandExit,
  errorText,
  LINE_START,
  loadSessionParams,
  modelOf,
  newSessionResult,
  pathsOf,
  permissionAnswer,
  permissionRequest,
  planUpdate,
  promptResult,
  type RpcMessage,
  rpcMessage,
  sessionUpdate,
  type ToolCallInfo,
  toolCall,
  transcriptLine,
  usageUpdate,
} from "./acp-wire.js";
import type { AgentEvent, OutputParser } from "./backend.js";

/** Tool kinds that change files: their completed calls are file changes. */
const EDIT_KINDS = new Set(["edit", "delete", "move"]);

/**
 * Reads an ACP worker's transcript lines (see acp-wire.ts) as Baton's events, the same way live and for
 * `baton logs`: the session id is the thread; Baton's `session/prompt` starts the turn and the agent's
 * response ends it (`end_turn` completes it, with its usage and the session's cost; any other stop
 * reason or an error fails it); message and thought chunks are joined into one message each; a tool
 * call of kind `execute` is a command, one of kind edit, delete or move that completed a file change;
 * each permission request appears with Baton's answer. Updates before the turn (the history that
 * `session/load` replays) are not this turn's.
 */
export class AcpParser implements OutputParser {
  /** Requests awaiting their response, by side and id: their method (and a load's session). */
  private readonly pending = new Map<string, { method: string; session?: string; call?: ToolCallInfo }>();
  /** Each tool call's title and kind, and the status last shown (an agent repeats `in_progress`). */
  private readonly tools = new Map<string, { title: string; kind: string; shown?: string }>();
  private inTurn = false;
  private message: { id: string | undefined; text: string } | undefined;
  private thought = "";
  private costUsd: number | undefined;

  line(text: string): AgentEvent[] {
    if (!text.startsWith(LINE_START)) return [];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return [];
    }
    const parsed = transcriptLine.safeParse(value);
    if (!parsed.success) return [];
    const line = parsed.data;
    if ("error" in line) return [...this.flush(), { type: "error", message: line.error }];
    const message = rpcMessage.safeParse(line.message);
    if (!message.success) return [];
    const { id, method } = message.data;
    if (method !== undefined && id !== undefined && id !== null)
      return this.request(line.from, String(id), method, message.data);
    if (method !== undefined) return line.from === "agent" ? this.notification(method, message.data) : [];
    if (id === undefined || id === null) return [];
    const other = line.from === "agent" ? "baton" : "agent";
    const asked = this.pending.get(`${other}:${id}`);
    this.pending.delete(`${other}:${id}`);
    // Baton refusing a method it never offered (opencode writes a file itself, then asks the client's
    // `fs/write_text_file` too) is no failure of the agent's.
    if (asked && line.from === "baton" && asked.method !== "session/request_permission") return [];
    return asked ? this.response(asked, message.data) : [];
  }

  private request(from: "agent" | "baton", id: string, method: string, message: RpcMessage): AgentEvent[] {
    if (from === "agent") {
      const asked =
        method === "session/request_permission" ? permissionRequest.safeParse(message.params) : undefined;
      this.pending.set(`agent:${id}`, { method, ...(asked?.success ? { call: asked.data.toolCall } : {}) });
      return [];
    }
    const load = method === "session/load" ? loadSessionParams.safeParse(message.params) : undefined;
    this.pending.set(`baton:${id}`, { method, ...(load?.success ? { session: load.data.sessionId } : {}) });
    if (method !== "session/prompt") return [];
    const events = this.flush();
    this.inTurn = true;
    return [...events, { type: "turn_started" }];
  }

  private response(
    asked: { method: string; session?: string; call?: ToolCallInfo },
    message: RpcMessage,
  ): AgentEvent[] {
    const { error } = message;
    switch (asked.method) {
      case "session/new": {
        const result = newSessionResult.safeParse(message.result);
        return result.success
          ? [...thread(result.data.sessionId), ...model(message.result)]
          : failed("session/new", error);
      }
      case "session/load":
        return error || !asked.session
          ? failed("session/load", error)
          : [...thread(asked.session), ...model(message.result)];
      case "session/prompt":
        return [...this.flush(), ...this.turnEnd(message)];
      case "session/request_permission":
        return asked.call ? this.permission(asked.call, message.result) : [];
      default:
        return error ? failed(asked.method, error) : [];
    }
  }

  private turnEnd(message: RpcMessage): AgentEvent[] {
    this.inTurn = false;
    const { error } = message;
    if (error) return [{ type: "turn_failed", message: errorText(error) }];
    const result = promptResult.safeParse(message.result);
    if (!result.success)
      return [{ type: "turn_failed", message: "the agent's answer to session/prompt is not one" }];
    const usage = usageOf(result.data);
    if (result.data.stopReason === "end_turn") {
      return [
        {
          type: "turn_completed",
          usage,
          ...(this.costUsd === undefined ? {} : { costUsd: this.costUsd }),
        },
      ];
    }
    const reason = result.data.stopReason;
    return [
      { type: "usage", usage },
      {
        type: "turn_failed",
        message: reason === "cancelled" ? "the turn was cancelled" : `the agent stopped: ${reason}`,
      },
    ];
  }

  private notification(method: string, message: RpcMessage): AgentEvent[] {
    if (method !== "session/update") return [];
    const parsed = sessionUpdate.safeParse(message.params);
    if (!parsed.success) return [];
    const { update } = parsed.data;
    const kind = update.sessionUpdate;
    if (kind === "usage_update") {
      const usage = usageUpdate.safeParse(update);
      const cost = usage.success ? usage.data.cost : undefined;
      // Zero is what opencode reports for a model it has no price for: no figure, rather than a silent $0.
      if (cost && cost.currency.toUpperCase() === "USD" && cost.amount > 0) this.costUsd = cost.amount;
      return [];
    }
    if (!this.inTurn) return []; // the history a loaded session replays, or chatter between turns
    if (kind === "agent_message_chunk" || kind === "agent_thought_chunk") {
      const part = chunk.safeParse(update);
      if (!part.success || part.data.content.type !== "text") return [];
      const text = part.data.content.text ?? "";
      if (kind === "agent_thought_chunk") {
        this.thought += text;
        return [];
      }
      const messageId = part.data.messageId ?? undefined;
      const events = this.message && this.message.id !== messageId ? this.flush() : [];
      this.message = { id: messageId, text: (this.message?.text ?? "") + text };
      return events;
    }
    if (kind === "tool_call" || kind === "tool_call_update") {
      const call = toolCall.safeParse(update);
      return call.success ? [...this.flush(), ...this.tool(call.data)] : [];
    }
    if (kind === "plan") {
      const plan = planUpdate.safeParse(update);
      if (!plan.success) return [];
      const items = plan.data.entries.map((e) => ({ text: e.content, completed: e.status === "completed" }));
      return [...this.flush(), { type: "plan", items }];
    }
    return [];
  }

  private tool(call: ToolCallInfo): AgentEvent[] {
    const known = this.tools.get(call.toolCallId);
    const title = call.title ?? known?.title ?? call.toolCallId;
    const kind = call.kind ?? known?.kind ?? "other";
    const status = call.status ?? "pending";
    this.tools.set(call.toolCallId, { title, kind, shown: status === "pending" ? known?.shown : status });
    if (status === "pending" || status === known?.shown) return [];
    if (kind === "execute") return [{ type: "command", command: title, status, exitCode: exitOf(call) }];
    if (EDIT_KINDS.has(kind) && status === "completed") {
      const paths = pathsOf(call);
      if (paths.length > 0) return [{ type: "file_change", paths }];
    }
    return [{ type: "tool_call", server: "acp", tool: `${kind} ${title}`, status }];
  }

  private permission(call: ToolCallInfo, result: unknown): AgentEvent[] {
    const answer = permissionAnswer.safeParse(result);
    const allowed = answer.success && answer.data._meta?.["baton/allowed"] === true;
    const why = answer.success ? answer.data._meta?.["baton/why"] : undefined;
    const title = call.title ?? call.toolCallId;
    const kind = call.kind ?? "other";
    const command = allowed && kind === "execute";
    const shown = this.tools.get(call.toolCallId)?.shown;
    this.tools.set(call.toolCallId, { title, kind, shown: command ? "in_progress" : shown });
    if (command)
      return shown === "in_progress"
        ? [] // shown once already (opencode says a call is in progress before it asks)
        : [{ type: "command", command: title, status: "in_progress", exitCode: undefined }];
    const status = allowed ? "allowed" : `refused${why ? ` (${why})` : ""}`;
    return [{ type: "tool_call", server: "permission", tool: `${kind} ${title}`, status }];
  }

  /** The thought and the message gathered so far, as one event each. */
  private flush(): AgentEvent[] {
    const events: AgentEvent[] = [];
    if (this.thought) events.push({ type: "reasoning", text: this.thought });
    if (this.message?.text) events.push({ type: "message", text: this.message.text });
    this.thought = "";
    this.message = undefined;
    return events;
  }
}

/** A command's exit code, where the agent says (opencode: `rawOutput.metadata.exit`). */
function exitOf(call: ToolCallInfo): number | undefined {
  const exit = commandExit.safeParse(call.rawOutput);
  return exit.success ? exit.data.metadata.exit : undefined;
}

function thread(id: string): AgentEvent[] {
  return THREAD_ID.test(id) ? [{ type: "thread", threadId: id }] : [];
}

function model(result: unknown): AgentEvent[] {
  const name = modelOf(result);
  return name ? [{ type: "model", model: name }] : [];
}

function failed(method: string, error: RpcMessage["error"]): AgentEvent[] {
  return [
    {
      type: "error",
      message: `${method} failed: ${error ? errorText(error) : "no answer"}`,
    },
  ];
}

/** Tokens as Baton counts them: input with cache reads and writes, output with thoughts. */
function usageOf(result: ReturnType<typeof promptResult.parse>): Usage {
  if (result.usage) {
    const u = result.usage;
    const cached = u.cachedReadTokens ?? 0;
    const thoughts = u.thoughtTokens ?? 0;
    return {
      inputTokens: u.inputTokens + cached + (u.cachedWriteTokens ?? 0),
      cachedInputTokens: cached,
      outputTokens: u.outputTokens + thoughts,
      reasoningOutputTokens: thoughts,
    };
  }
  const tokens = result._meta?.quota.token_count;
  if (!tokens) return ZERO_USAGE;
  return { ...ZERO_USAGE, inputTokens: tokens.input_tokens, outputTokens: tokens.output_tokens };
}

export const acpParser = (): OutputParser => new AcpParser();
