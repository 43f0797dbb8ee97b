import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { Usage } from "../worker/types.js";
import type { LiveUsage } from "./backend.js";

// The Gemini CLI's own record of a session: `<home>/.gemini/tmp/<project>/chats/session-<time>-<id8>.jsonl`,
// a metadata line, then one line a message (`type: "user" | "gemini" | ...`), with `{"$set": ...}`
// lines between that update the metadata or, at times, the whole message list. Each model message
// carries its text and its usage (`tokens`). It is read as untrusted input (the worker may write its
// home): never through a link, never a FIFO.
//
// Two things only it gets right: the final answer after the CLI retried a broken stream (the stream
// sends the failed attempt's text too, with nothing to tell them apart), and usage while the turn
// runs (the stream reports usage only at its end).

/** A model message as the session records it. */
interface ModelMessage {
  readonly content: string;
  readonly usage: Usage;
  readonly toolCalls: boolean;
  readonly at: number;
}

type Json = Record<string, unknown>;

/** How much of a session file one read takes in at most: its end, where the last messages are. */
const MAX_UNREAD = 32 * 1024 * 1024;

const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

/**
 * The session file of thread `threadId` under `home`, if the CLI has written one: the first it made.
 * A resumed session goes on in that file, but the CLI first starts a record named after the current
 * minute, which stays a lone metadata line when the minute has changed since (and is skipped by its
 * own `--resume`).
 */
export function sessionFile(home: string, threadId: string): string | undefined {
  const tmp = join(home, ".gemini", "tmp");
  const suffix = `-${threadId.slice(0, 8)}.jsonl`;
  let projects: string[] = [];
  try {
    projects = readdirSync(tmp);
  } catch {
    return undefined;
  }
  for (const project of projects) {
    let names: string[] = [];
    try {
      names = readdirSync(join(tmp, project, "chats"));
    } catch {}
    const name = names
      .filter((n) => n.startsWith("session-") && n.endsWith(suffix))
      .sort()
      .at(0);
    if (name) return join(tmp, project, "chats", name);
  }
  return undefined;
}

/**
 * Reads a session file as it grows: each `read()` takes in the lines added since the last one.
 * `messages` are the model messages so far, oldest first.
 */
export class SessionReader {
  messages: ModelMessage[] = [];
  private offset = 0;
  private partial = "";
  private skipLine = false;
  private decoder = new StringDecoder("utf8");

  constructor(private readonly path: string) {}

  read(): this {
    let fd: number;
    try {
      fd = openSync(this.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return this;
    }
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) return this;
      if (info.size < this.offset) this.reset(); // rewritten whole
      if (info.size - this.offset > MAX_UNREAD) {
        // Far behind (a huge session, or a planted file): only its end counts, from a whole line.
        this.offset = info.size - MAX_UNREAD;
        this.partial = "";
        this.skipLine = true;
        this.decoder = new StringDecoder("utf8");
      }
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, this.offset);
        if (n === 0) break;
        this.offset += n;
        const lines = (this.partial + this.decoder.write(buffer.subarray(0, n))).split("\n");
        this.partial = lines.pop() ?? "";
        if (this.skipLine && lines.length > 0) {
          lines.shift(); // the end of a line whose start was not read
          this.skipLine = false;
        }
        for (const line of lines) this.take(line);
        if (this.partial.length > MAX_UNREAD) {
          this.partial = "";
          this.skipLine = true;
        }
      }
    } catch {
      // unreadable now: what was read stands
    } finally {
      closeSync(fd);
    }
    return this;
  }

  private reset(): void {
    this.messages = [];
    this.offset = 0;
    this.partial = "";
    this.skipLine = false;
    this.decoder = new StringDecoder("utf8");
  }

  private take(line: string): void {
    let record: Json;
    try {
      const parsed = JSON.parse(line) as unknown;
      if (!parsed || typeof parsed !== "object") return;
      record = parsed as Json;
    } catch {
      return;
    }
    const set = record.$set && typeof record.$set === "object" ? (record.$set as Json) : undefined;
    if (set && Array.isArray(set.messages)) {
      this.messages = [];
      for (const message of set.messages) this.add(message);
    } else this.add(record);
  }

  private add(record: unknown): void {
    if (!record || typeof record !== "object") return;
    const message = record as Json;
    if (message.type !== "gemini") return;
    const tokens = message.tokens && typeof message.tokens === "object" ? (message.tokens as Json) : {};
    const thoughts = num(tokens.thoughts);
    this.messages.push({
      content: textOf(message.content),
      usage: {
        inputTokens: num(tokens.input),
        cachedInputTokens: num(tokens.cached),
        outputTokens: num(tokens.output) + thoughts,
        reasoningOutputTokens: thoughts,
      },
      toolCalls: Array.isArray(message.toolCalls) && message.toolCalls.length > 0,
      at: Date.parse(typeof message.timestamp === "string" ? message.timestamp : "") || 0,
    });
  }
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (part && typeof part === "object" && typeof part.text === "string" ? part.text : ""))
    .join("");
}

/** The final answer the session recorded: its last model message, if that one called no tool. */
export function recordedAnswer(home: string, threadId: string): string | undefined {
  const path = sessionFile(home, threadId);
  const last = path ? new SessionReader(path).read().messages.at(-1) : undefined;
  return last && !last.toolCalls && last.content.trim() ? last.content : undefined;
}

/** Usage of the model messages the session recorded since `since` (ms): this run's, while it runs. */
export function recordedUsage(home: string, threadId: string, since: number): LiveUsage {
  let reader: SessionReader | undefined;
  return {
    read() {
      if (!reader) {
        const path = sessionFile(home, threadId);
        if (!path) return undefined;
        reader = new SessionReader(path);
      }
      const mine = reader.read().messages.filter((m) => m.at >= since);
      if (mine.length === 0) return undefined;
      return mine.reduce<Usage>(
        (sum, m) => ({
          inputTokens: sum.inputTokens + m.usage.inputTokens,
          cachedInputTokens: sum.cachedInputTokens + m.usage.cachedInputTokens,
          outputTokens: sum.outputTokens + m.usage.outputTokens,
          reasoningOutputTokens: sum.reasoningOutputTokens + m.usage.reasoningOutputTokens,
        }),
        { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningOutputTokens: 0 },
      );
    },
  };
}
