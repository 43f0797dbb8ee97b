import { THREAD_ID } from "../worker/types.js";
import type { AgentEvent } from "./backend.js";

// The shape of `codex exec --json` lines (codex-rs/exec/src/exec_events.rs). Unknown kinds are ignored.

type Json = Record<string, unknown>;

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

/** Turns one codex JSONL event into Baton's events. */
export function fromCodexEvent(event: Json): AgentEvent[] {
  switch (event.type) {
    case "thread.started": {
      // What the agent printed is untrusted: the id becomes an argument of `codex exec resume` and part
      // of a file name, so only an id's shape is taken (never a flag, a path or a space).
      const threadId = str(event.thread_id);
      return threadId && THREAD_ID.test(threadId) ? [{ type: "thread", threadId }] : [];
    }
    case "turn.started":
      return [{ type: "turn_started" }];
    case "turn.completed": {
      const usage = (event.usage ?? {}) as Json;
      return [
        {
          type: "turn_completed",
          usage: {
            inputTokens: num(usage.input_tokens),
            cachedInputTokens: num(usage.cached_input_tokens),
            outputTokens: num(usage.output_tokens),
            reasoningOutputTokens: num(usage.reasoning_output_tokens),
          },
        },
      ];
    }
    case "turn.failed":
      return [
        { type: "turn_failed", message: str((event.error as Json | undefined)?.message) ?? "turn failed" },
      ];
    case "error":
      return [{ type: "error", message: str(event.message) ?? "error" }];
    case "item.completed":
    case "item.started":
    case "item.updated":
      return fromItem(event.type, (event.item ?? {}) as Json);
    default:
      return [];
  }
}

function fromItem(phase: string, item: Json): AgentEvent[] {
  const completed = phase === "item.completed";
  switch (item.type) {
    case "agent_message":
      return completed ? [{ type: "message", text: str(item.text) ?? "" }] : [];
    case "reasoning":
      return completed ? [{ type: "reasoning", text: str(item.text) ?? "" }] : [];
    case "command_execution":
      return [
        {
          type: "command",
          command: str(item.command) ?? "",
          status: str(item.status) ?? phase,
          exitCode: typeof item.exit_code === "number" ? item.exit_code : undefined,
        },
      ];
    case "file_change": {
      if (!completed) return [];
      const changes = Array.isArray(item.changes) ? (item.changes as Json[]) : [];
      return [{ type: "file_change", paths: changes.map((c) => str(c.path) ?? "") }];
    }
    case "mcp_tool_call":
      return [
        {
          type: "tool_call",
          server: str(item.server) ?? "",
          tool: str(item.tool) ?? "",
          status: str(item.status) ?? phase,
        },
      ];
    case "todo_list": {
      const items = Array.isArray(item.items) ? (item.items as Json[]) : [];
      return [
        {
          type: "plan",
          items: items.map((i) => ({ text: str(i.text) ?? "", completed: i.completed === true })),
        },
      ];
    }
    default:
      return [];
  }
}
