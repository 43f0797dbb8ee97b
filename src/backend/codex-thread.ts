import { closeSync, openSync, readSync } from "node:fs";
import { findRollout, sessionsOf } from "./codex-rollout.js";

// Whether a codex thread can go on here, read from its rollout log: codex makes the log as the thread
// starts and writes each message it takes in a moment after (7 to 60 ms, measured). A thread cut off
// in between would be continued without that message.

const CHUNK = 64 * 1024;
/** One read buffer for every check: reads are synchronous, so no two use it at once. */
const BUFFER = Buffer.allocUnsafe(CHUNK);

/** How far into a rollout log the task is looked for (codex's instructions come before it). */
const TASK_WITHIN_BYTES = 16 * 1024 * 1024;
/** How far a follow-up's text is looked for: it comes after its parent's whole turn. */
const MESSAGE_WITHIN_BYTES = 64 * 1024 * 1024;

/**
 * Whether the thread's rollout log is in this machine's CODEX_HOME and holds the task (what
 * `codex exec resume` needs): a thread cut off before codex wrote its task is not one.
 */
export function codexHasThread(threadId: string, env: Readonly<Record<string, string>>): boolean {
  return anyUserMessage(threadId, env, TASK_WITHIN_BYTES, () => true);
}

/**
 * Whether the thread's log holds `text` as a message codex took in (a follow-up's own text). Past
 * {@link MESSAGE_WITHIN_BYTES} it says no: a follow-up sent twice is better than one never sent.
 */
export function codexHoldsMessage(
  threadId: string,
  text: string,
  env: Readonly<Record<string, string>>,
): boolean {
  const wanted = text.trim();
  return anyUserMessage(threadId, env, MESSAGE_WITHIN_BYTES, (message) => message.trim() === wanted);
}

/** Reads the thread's log from the start, in chunks, until a user message satisfies `found`. */
function anyUserMessage(
  threadId: string,
  env: Readonly<Record<string, string>>,
  within: number,
  found: (message: string) => boolean,
): boolean {
  const path = findRollout(sessionsOf(env), threadId, { listedAt: 0 });
  if (!path) return false;
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    let pending = "";
    for (let offset = 0; offset < within; ) {
      const n = readSync(fd, BUFFER, 0, CHUNK, offset);
      if (n <= 0) return false;
      offset += n;
      const lines = (pending + BUFFER.subarray(0, n).toString("utf8")).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const message = userMessage(line);
        if (message !== undefined && found(message)) return true;
      }
    }
    return false;
  } catch {
    return false;
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
