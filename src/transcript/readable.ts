import type { AgentEvent, OutputParser } from "../backend/backend.js";
import { tokens } from "../render/numbers.js";
import { totalTokens } from "../worker/types.js";

// A worker's transcript as people read it: what the agent said, the commands it ran and how they
// ended, the files it changed, its errors and its final answer; not its JSON lines and colour codes.
// Built from the transcript's lines through the worker's own backend parser, so that Baton's notes
// and what the agent printed besides its events (warnings on stderr) keep their place. The CLI prints
// it; a terminal or web view can take the entries and draw them its own way.

/** One thing a person reads in a transcript. */
export type TranscriptEntry =
  | { readonly type: "event"; readonly event: AgentEvent }
  /** The agent's last message, once the worker has ended. */
  | { readonly type: "answer"; readonly text: string }
  /** A line that is not an agent event (a warning, one of Baton's notes), its colour codes removed. */
  | { readonly type: "text"; readonly text: string };

export interface ReadableOptions {
  /** The text runs to the end of an ended worker's transcript: its last message is its final answer. */
  readonly ended?: boolean;
}

/** The entries of `text` (transcript lines, CRLF or LF), in order. */
export function transcriptEntries(
  text: string,
  parser: OutputParser,
  options: ReadableOptions = {},
): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (isEventLine(line)) {
      for (const event of parser.line(line)) entries.push({ type: "event", event });
    } else {
      const plain = withoutEscapes(line).trimEnd();
      if (plain.trim()) entries.push({ type: "text", text: plain });
    }
  }
  foldBacktraces(entries);
  if (options.ended) {
    for (let i = entries.length - 1; i >= 0; i--) {
      const found = entries[i];
      if (found?.type !== "event" || found.event.type !== "message") continue;
      entries[i] = { type: "answer", text: found.event.text };
      break;
    }
  }
  return entries;
}

/** `text` as a person reads it, one or more lines per entry, ending in a newline (or empty). */
export function readableTranscript(
  text: string,
  parser: OutputParser,
  options: ReadableOptions = {},
): string {
  const lines: string[] = [];
  let running: string | undefined; // the command whose start was the last line written
  for (const entry of transcriptEntries(text, parser, options)) {
    const shown = renderEntry(entry, running);
    running =
      entry.type === "event" && entry.event.type === "command" && entry.event.status === "in_progress"
        ? entry.event.command
        : undefined;
    if (shown !== undefined) lines.push(shown);
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}

/**
 * One entry as text. `running`: the command whose start was shown just before, so that its end is
 * written as `  exit 0` under it rather than repeating it.
 */
export function renderEntry(entry: TranscriptEntry, running?: string): string | undefined {
  switch (entry.type) {
    case "text":
      return entry.text;
    case "answer":
      return `final answer:\n${indent(entry.text)}`;
    case "event":
      return renderEvent(entry.event, running);
  }
}

function renderEvent(event: AgentEvent, running: string | undefined): string | undefined {
  switch (event.type) {
    case "thread":
      return `thread ${event.threadId}`;
    case "turn_started":
      return undefined;
    case "turn_completed":
      return `turn done (${tokens(totalTokens(event.usage))})`;
    case "turn_failed":
      return `turn failed: ${event.message}`;
    case "message":
      return `agent: ${hang(event.text, "       ")}`;
    case "reasoning":
      return `thinking: ${hang(event.text, "          ")}`;
    case "command": {
      if (event.status === "in_progress") return `$ ${hang(event.command, "  ")}`;
      const end = event.exitCode === undefined ? event.status : `exit ${event.exitCode}`;
      return running === event.command ? `  ${end}` : `$ ${hang(event.command, "  ")}\n  ${end}`;
    }
    case "file_change":
      return `changed: ${event.paths.join(", ")}`;
    case "tool_call":
      return `tool ${event.server}.${event.tool}: ${event.status}`;
    case "plan":
      return `plan:\n${event.items.map((item) => `  [${item.completed ? "x" : " "}] ${item.text}`).join("\n")}`;
    case "error":
      return `error: ${event.message}`;
  }
}

/**
 * A Rust program's backtrace (codex's, when RUST_BACKTRACE is set: `Stack backtrace:` then a line per
 * frame, mostly `  3: <unknown>`) folded into one line that says how many frames `--raw` holds.
 */
function foldBacktraces(entries: TranscriptEntry[]): void {
  for (let i = 0; i < entries.length; i++) {
    const head = entries[i];
    if (head?.type !== "text" || head.text.trim() !== "Stack backtrace:") continue;
    let end = i + 1;
    let frames = 0;
    for (; end < entries.length; end++) {
      const next = entries[end];
      if (next?.type !== "text" || !BACKTRACE_LINE.test(next.text)) break;
      if (/^\s*\d+:/.test(next.text)) frames += 1;
    }
    if (frames === 0) continue;
    const text = `Stack backtrace: ${frames} frame${frames === 1 ? "" : "s"} (\`baton logs --raw\` shows them)`;
    entries.splice(i, end - i, { type: "text", text });
  }
}

/** A frame of a Rust backtrace (`  12: name`), or where it is (`      at src/main.rs:3:5`). */
const BACKTRACE_LINE = /^\s*(?:\d+: |at )/;

/** A line that holds a JSON object: an agent event, shown through the events the parser finds in it. */
function isEventLine(line: string): boolean {
  const start = line.indexOf("{");
  if (start < 0 || !line.trimEnd().endsWith("}")) return false;
  try {
    const value = JSON.parse(line.slice(start)) as unknown;
    return value !== null && typeof value === "object";
  } catch {
    return false;
  }
}

/**
 * Colour codes (SGR: ESC [ ... m) and cursor show/hide removed: a warning codex colours reads as its
 * words. Any other control sequence (a screen clear, a title) stays, for the adapter to show visibly
 * on a terminal: it is not noise but something a person should see.
 */
function withoutEscapes(line: string): string {
  return line.replace(FORMATTING, "");
}

// Claude Code ends with `ESC[?25h`.
const FORMATTING = /\x1b\[(?:[0-9;:]*m|\?25[hl])/g;

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => (line ? `  ${line}` : line))
    .join("\n");
}

/** Continuation lines of `text` indented by `by`, under the first. */
function hang(text: string, by: string): string {
  return text.replaceAll("\n", `\n${by}`);
}
