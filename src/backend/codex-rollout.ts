import { closeSync, existsSync, openSync, readdirSync, readSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Usage } from "../worker/types.js";
import type { LiveUsage } from "./backend.js";

// Codex logs each thread to CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl, with its
// usage so far after every model response: a `token_usage_record` (codex 0.169: as soon as the
// response is in, before the commands it asks for run) and a `token_count` event (once they have run;
// the only one in older codex). `codex exec --json` reports usage only when the turn ends, so this log
// is what lets a token budget stop a worker in the middle of its turn, and the record what lets it do
// so before a long command has run. Each turn's `turn_context` names the model it runs, which `--json`
// never does: what prices its tokens.

const CHUNK = 64 * 1024;
/** One read buffer for every log: reads are synchronous, so no two use it at once. */
const BUFFER = Buffer.allocUnsafe(CHUNK);

/** Where codex keeps its rollout logs, for an agent with environment `env`. */
export function sessionsOf(env: Readonly<Record<string, string>>): string {
  return join(env.CODEX_HOME || join(env.HOME || homedir(), ".codex"), "sessions");
}

/** Follows one thread's rollout log. Usage is counted from where the log stood when this started. */
export function codexRolloutUsage(threadId: string, env: Readonly<Record<string, string>>): LiveUsage {
  const root = sessionsOf(env);
  let path: string | undefined;
  // The log appears a moment after the thread starts: until then only its exact names are tried. The
  // day folders are listed (costly, see findRollout) only if none of them is there after a while.
  const listing = { listedAt: Date.now() };
  let offset = 0;
  /** The bytes after the last line end read so far: the start of a line still being written. */
  let pending = Buffer.alloc(0);
  let baseline: Usage | undefined;
  let latest: Usage | undefined;
  let model: string | undefined;
  // The log stays open while the thread is followed: each read is one pread from where the last ended.
  let fd: number | undefined;
  const close = () => {
    try {
      if (fd !== undefined) closeSync(fd);
    } catch {}
    fd = undefined;
  };
  const consume = () => {
    if (!path) {
      path = findRollout(root, threadId, listing);
      if (!path) return;
    }
    try {
      fd ??= openSync(path, "r");
      for (;;) {
        const n = readSync(fd, BUFFER, 0, CHUNK, offset);
        if (n <= 0) break;
        offset += n;
        const bytes =
          pending.length > 0 ? Buffer.concat([pending, BUFFER.subarray(0, n)]) : BUFFER.subarray(0, n);
        const end = bytes.lastIndexOf(NEWLINE) + 1; // the whole lines read: bytes[0, end)
        latest = lastUsage(bytes, end, threadId) ?? latest;
        model = lastOf(bytes, end, TURN_CONTEXT, turnModel)?.found ?? model;
        pending = Buffer.from(bytes.subarray(end)); // a copy: BUFFER is read into again
      }
    } catch {
      close(); // a log we cannot read only means no live figures
    }
  };
  // What the log already holds (a resumed thread) belongs to earlier attempts.
  consume();
  baseline = latest;
  return {
    read() {
      consume();
      if (!latest) return undefined;
      return baseline ? minus(latest, baseline) : latest;
    },
    model: () => model,
    close,
  };
}

const NEWLINE = 0x0a;
const TOKEN_COUNT = Buffer.from('"token_count"');
const USAGE_RECORD = Buffer.from('"token_usage_record"');
const TURN_CONTEXT = Buffer.from('"turn_context"');

/** The thread's usage as the later of its last `token_count` and its last `token_usage_record` says. */
function lastUsage(bytes: Buffer, end: number, threadId: string): Usage | undefined {
  const count = lastOf(bytes, end, TOKEN_COUNT, tokenTotal);
  const record = lastOf(bytes, end, USAGE_RECORD, (line) => recordTotal(line, threadId));
  if (!count || !record) return (count ?? record)?.found;
  return (record.at > count.at ? record : count).found;
}

/**
 * What `read` finds in the last line of `bytes[0, end)` that holds `marker` and yields something, and
 * where that line starts. Only those lines are decoded: the log's first line alone (codex's
 * instructions) is tens of kilobytes.
 */
function lastOf<T>(
  bytes: Buffer,
  end: number,
  marker: Buffer,
  read: (line: string) => T | undefined,
): { found: T; at: number } | undefined {
  // (A negative offset would count from the end, where the unfinished line is.)
  for (let at = end > 0 ? bytes.lastIndexOf(marker, end - 1) : -1; at >= 0; ) {
    const start = bytes.lastIndexOf(NEWLINE, at) + 1;
    const found = read(bytes.toString("utf8", start, bytes.indexOf(NEWLINE, at)));
    if (found !== undefined) return { found, at: start };
    at = start > 0 ? bytes.lastIndexOf(marker, start - 1) : -1;
  }
  return undefined;
}

/** The model of a `turn_context` line: `{"type":"turn_context","payload":{"model":"gpt-5.5",...}}`. */
function turnModel(line: string): string | undefined {
  if (!line.includes('"turn_context"')) return undefined;
  try {
    const event = JSON.parse(line) as { type?: string; payload?: { model?: unknown } };
    const model = event.type === "turn_context" ? event.payload?.model : undefined;
    return typeof model === "string" && model.length > 0 && model.length <= 200 ? model : undefined;
  } catch {
    return undefined;
  }
}

/** The thread's total of a `token_count` line: `{"payload":{"type":"token_count","info":{"total_token_usage":…}}}`. */
function tokenTotal(line: string): Usage | undefined {
  if (!line.includes('"token_count"')) return undefined;
  try {
    const event = JSON.parse(line) as {
      payload?: { type?: string; info?: { total_token_usage?: unknown } | null };
    };
    return event.payload?.type === "token_count" ? usageOf(event.payload.info?.total_token_usage) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The thread's total of a `token_usage_record` line of this thread:
 * `{"type":"token_usage_record","payload":{"thread_id":…,"thread_token_usage":…}}`.
 */
function recordTotal(line: string, threadId: string): Usage | undefined {
  if (!line.includes('"token_usage_record"')) return undefined;
  try {
    const event = JSON.parse(line) as {
      type?: string;
      payload?: { thread_id?: unknown; thread_token_usage?: unknown };
    };
    const payload = event.type === "token_usage_record" ? event.payload : undefined;
    if (!payload || (payload.thread_id !== undefined && payload.thread_id !== threadId)) return undefined;
    return usageOf(payload.thread_token_usage);
  } catch {
    return undefined;
  }
}

function usageOf(total: unknown): Usage | undefined {
  if (!total || typeof total !== "object") return undefined;
  const n = (key: string) => {
    const value = (total as Record<string, unknown>)[key];
    return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;
  };
  return {
    inputTokens: n("input_tokens"),
    cachedInputTokens: n("cached_input_tokens"),
    outputTokens: n("output_tokens"),
    reasoningOutputTokens: n("reasoning_output_tokens"),
  };
}

function minus(a: Usage, b: Usage): Usage {
  return {
    inputTokens: Math.max(0, a.inputTokens - b.inputTokens),
    cachedInputTokens: Math.max(0, a.cachedInputTokens - b.cachedInputTokens),
    outputTokens: Math.max(0, a.outputTokens - b.outputTokens),
    reasoningOutputTokens: Math.max(0, a.reasoningOutputTokens - b.reasoningOutputTokens),
  };
}

/**
 * Where the thread's log is. Codex's thread ids are UUIDv7, whose first 48 bits are the time the
 * thread began, and the log's name carries that time to the second: a few exact names to try, local
 * time or UTC, a second either way. Only when none is there (another clock, another codex) are the
 * day folders listed, which a shared CODEX_HOME with thousands of logs makes costly, so at most every
 * few seconds.
 */
export function findRollout(root: string, threadId: string, state: { listedAt: number }): string | undefined {
  for (const path of likelyPaths(root, threadId)) if (existsSync(path)) return path;
  if (Date.now() - state.listedAt < LIST_EVERY_MS) return undefined;
  state.listedAt = Date.now();
  return listRollout(root, threadId);
}

const LIST_EVERY_MS = 5000;

function likelyPaths(root: string, threadId: string): string[] {
  const ms = Number.parseInt(threadId.replaceAll("-", "").slice(0, 12), 16);
  if (!/^[0-9a-f]{8}-/i.test(threadId) || !Number.isFinite(ms)) return [];
  const paths = new Set<string>();
  for (const shift of [0, 1000, -1000]) {
    const at = new Date(ms + shift);
    for (const utc of [false, true]) {
      const [y, mo, d, h, mi, se] = utc
        ? [
            at.getUTCFullYear(),
            at.getUTCMonth() + 1,
            at.getUTCDate(),
            at.getUTCHours(),
            at.getUTCMinutes(),
            at.getUTCSeconds(),
          ]
        : [
            at.getFullYear(),
            at.getMonth() + 1,
            at.getDate(),
            at.getHours(),
            at.getMinutes(),
            at.getSeconds(),
          ];
      const day = join(String(y), pad(mo), pad(d));
      paths.add(
        join(
          root,
          day,
          `rollout-${y}-${pad(mo)}-${pad(d)}T${pad(h)}-${pad(mi)}-${pad(se)}-${threadId}.jsonl`,
        ),
      );
    }
  }
  return [...paths];
}

/** The newest days first: a thread's log sits under the day it started (local or UTC date). */
function listRollout(root: string, threadId: string): string | undefined {
  const suffix = `-${threadId}.jsonl`;
  const days = new Set<string>();
  for (const back of [0, 1, 2]) {
    const date = new Date(Date.now() - back * 86_400_000);
    days.add(join(String(date.getFullYear()), pad(date.getMonth() + 1), pad(date.getDate())));
    days.add(join(String(date.getUTCFullYear()), pad(date.getUTCMonth() + 1), pad(date.getUTCDate())));
  }
  for (const day of days) {
    try {
      const name = readdirSync(join(root, day)).find((n) => n.endsWith(suffix));
      if (name) return join(root, day, name);
    } catch {}
  }
  return undefined;
}

const pad = (n: number) => String(n).padStart(2, "0");
