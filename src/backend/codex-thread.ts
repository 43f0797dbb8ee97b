import { closeSync, openSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { RESUME_PROMPT } from "../worker/prompt.js";
import { findRollout, sessionsOf } from "./codex-rollout.js";

// Whether a codex thread can go on here, read from its rollout log: codex makes the log as the thread
// starts and writes each message it takes in a moment after (7 to 60 ms, measured). A thread cut off
// in between would be continued without that message.

const CHUNK = 64 * 1024;
/** One read buffer for every check: reads are synchronous, so no two use it at once. */
const BUFFER = Buffer.allocUnsafe(CHUNK);

/** How far into a rollout log the task is looked for (codex's instructions come before it). */
const TASK_WITHIN_BYTES = 16 * 1024 * 1024;
/** How far a follow-up's text is looked for: the whole log, up to this (it comes after its parent's turns). */
const MESSAGE_WITHIN_BYTES = 64 * 1024 * 1024;

/**
 * Whether the thread's rollout log is in this machine's CODEX_HOME and holds the task (what
 * `codex exec resume` needs): a thread cut off before codex wrote its task is not one.
 */
export function codexHasThread(threadId: string, env: Readonly<Record<string, string>>): boolean {
  return eachUserMessage(threadId, env, TASK_WITHIN_BYTES, () => true) === "stopped";
}

/**
 * Whether the thread's log holds `text` as the last message codex took in (a follow-up's own text),
 * not counting Baton's resume prompts sent after it. The last, not any: a follow-up repeating an
 * earlier message of its thread is not taken for one that arrived. And, given `before` (how many
 * messages the thread held when the follow-up was sent: {@link codexThreadMessages}), only once the
 * thread holds more: a follow-up repeating the very message before it ("go on", twice) is not taken
 * for one that arrived either. Past {@link MESSAGE_WITHIN_BYTES} it says no: a follow-up sent twice
 * is better than one never sent. It reads the log from its start: only a resume or a host's takeover
 * asks (and {@link codexThreadMessages}, once a follow-up).
 */
export function codexHoldsMessage(
  threadId: string,
  text: string,
  env: Readonly<Record<string, string>>,
  before?: number,
): boolean {
  const held = userMessages(threadId, env);
  return held !== undefined && held.last === text.trim() && (before === undefined || held.count > before);
}

/**
 * How many messages the thread's log holds, Baton's resume prompts left out; undefined where it cannot
 * be read whole. Taken as a follow-up is sent, it tells a later check whether that one arrived.
 */
export function codexThreadMessages(
  threadId: string,
  env: Readonly<Record<string, string>>,
): number | undefined {
  return userMessages(threadId, env)?.count;
}

/** The thread's user messages but Baton's resume prompts: how many, and the last one, trimmed. */
function userMessages(
  threadId: string,
  env: Readonly<Record<string, string>>,
): { count: number; last: string | undefined } | undefined {
  const resume = RESUME_PROMPT.trim();
  let count = 0;
  let last: string | undefined;
  const read = eachUserMessage(threadId, env, MESSAGE_WITHIN_BYTES, (message) => {
    const trimmed = message.trim();
    if (trimmed !== resume) {
      count++;
      last = trimmed;
    }
    return false;
  });
  return read === "whole" ? { count, last } : undefined;
}

/**
 * Reads the thread's log from the start, in chunks, giving each user message to `stop` until it says
 * so: "stopped", "whole" (read to its end), or "not" (no log, unreadable, or longer than `within`).
 */
function eachUserMessage(
  threadId: string,
  env: Readonly<Record<string, string>>,
  within: number,
  stop: (message: string) => boolean,
): "stopped" | "whole" | "not" {
  const path = findRollout(sessionsOf(env), threadId, { listedAt: 0 });
  if (!path) return "not";
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    // A character split between two reads is decoded whole.
    const decoder = new StringDecoder("utf8");
    let pending = "";
    for (let offset = 0; offset < within; ) {
      const n = readSync(fd, BUFFER, 0, CHUNK, offset);
      if (n <= 0) return "whole";
      offset += n;
      const lines = (pending + decoder.write(BUFFER.subarray(0, n))).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const message = userMessage(line);
        if (message !== undefined && stop(message)) return "stopped";
      }
    }
    return "not";
  } catch {
    return "not";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The text of a log line recording a message of the user's as taken in (the task, a follow-up's). */
function userMessage(line: string): string | undefined {
  if (!line.includes("UserMessage") && !line.includes("user_message")) return undefined;
  try {
    const { type, payload } = JSON.parse(line) as {
      type?: string;
      payload?: {
        type?: string;
        message?: unknown;
        item?: { type?: string; content?: readonly { type?: string; text?: unknown }[] };
      };
    };
    if (type !== "event_msg") return undefined;
    if (payload?.type === "user_message") return typeof payload.message === "string" ? payload.message : "";
    if (payload?.type !== "item_completed" || payload.item?.type !== "UserMessage") return undefined;
    const parts = Array.isArray(payload.item.content) ? payload.item.content : [];
    return parts.map((part) => (typeof part?.text === "string" ? part.text : "")).join("");
  } catch {
    return undefined;
  }
}
