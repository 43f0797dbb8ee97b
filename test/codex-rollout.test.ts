import assert from "node:assert/strict";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { codexRolloutUsage } from "../dist/backend/codex-rollout.js";
import { codexHasThread, codexHoldsMessage, codexThreadMessages } from "../dist/backend/codex-thread.js";
import { RESUME_PROMPT } from "../dist/worker/prompt.js";

// Codex logs a thread to CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread>.jsonl as it goes; Baton
// follows that log for a worker's usage mid-turn, keeping it open between reads.

const pad = (n: number) => String(n).padStart(2, "0");

/** A UUIDv7-like thread id that began at `ms`, and the log name codex gives it (UTC). */
function thread(ms: number): { id: string; file: string; day: string } {
  const hex = ms.toString(16).padStart(12, "0");
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7abc-8def-0123456789ab`;
  const at = new Date(ms);
  const [y, mo, d] = [at.getUTCFullYear(), pad(at.getUTCMonth() + 1), pad(at.getUTCDate())];
  const time = `${pad(at.getUTCHours())}-${pad(at.getUTCMinutes())}-${pad(at.getUTCSeconds())}`;
  return { id, day: join(String(y), mo, d), file: `rollout-${y}-${mo}-${d}T${time}-${id}.jsonl` };
}

const tokenCount = (input: number, output: number) =>
  `${JSON.stringify({
    type: "event_msg",
    payload: {
      type: "token_count",
      info: { total_token_usage: { input_tokens: input, output_tokens: output } },
    },
  })}\n`;

/** How many of this process's descriptors are open on `path`. */
const openOn = (path: string) =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;

test("a followed rollout log is read as it grows, through one descriptor given back at close", () => {
  const home = mkdtempSync(join(tmpdir(), "baton-rollout-"));
  try {
    const { id, day, file } = thread(Date.now());
    mkdirSync(join(home, "sessions", day), { recursive: true });
    const log = join(realpathSync(home), "sessions", day, file);
    writeFileSync(log, `${JSON.stringify({ type: "turn_context", payload: { model: "gpt-test" } })}\n`);

    const live = codexRolloutUsage(id, { CODEX_HOME: home });
    assert.equal(live.read(), undefined, "no token count yet");
    assert.equal(live.model?.(), "gpt-test");
    assert.equal(openOn(log), 1, "the log stays open while it is followed");

    appendFileSync(log, tokenCount(100, 5));
    assert.equal(live.read()?.inputTokens, 100);
    appendFileSync(log, tokenCount(250, 9));
    assert.deepEqual(
      [live.read()?.inputTokens, live.read()?.outputTokens],
      [250, 9],
      "each read picks up what was appended since",
    );
    assert.equal(openOn(log), 1, "still one descriptor after several reads");

    live.close?.();
    assert.equal(openOn(log), 0, "close gives the descriptor back");
    appendFileSync(log, tokenCount(400, 12));
    assert.equal(live.read()?.inputTokens, 400, "a read after close opens the log again and goes on");
    live.close?.();
    assert.equal(openOn(log), 0);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("only whole lines count: a line written in two parts, a first line longer than a read, a mention that is no count", () => {
  const home = mkdtempSync(join(tmpdir(), "baton-rollout-"));
  try {
    const { id, day, file } = thread(Date.now());
    mkdirSync(join(home, "sessions", day), { recursive: true });
    const log = join(realpathSync(home), "sessions", day, file);
    // Codex's first line holds its instructions: here 200 KB, with a mention of token counts and
    // characters of several bytes, read in several pieces.
    const instructions = `say "token_count" and "turn_context" freely, é€😀 ${"x".repeat(200_000)}`;
    writeFileSync(log, `${JSON.stringify({ type: "session_meta", payload: { instructions } })}\n`);
    const live = codexRolloutUsage(id, { CODEX_HOME: home });
    assert.equal(live.read(), undefined, "the long line is no count");
    assert.equal(live.model?.(), undefined, "nor a turn's model");

    const [head, tail] = [tokenCount(70, 3).slice(0, 40), tokenCount(70, 3).slice(40)];
    appendFileSync(log, head);
    assert.equal(live.read(), undefined, "half a line is not read yet");
    appendFileSync(log, tail);
    assert.equal(live.read()?.inputTokens, 70, "the line counts once its end is there");

    const mention = `${JSON.stringify({ type: "event_msg", payload: { type: "agent_message", message: '"token_count"' } })}\n`;
    appendFileSync(log, tokenCount(90, 4) + mention);
    assert.equal(live.read()?.inputTokens, 90, "a later line that only mentions a count leaves the count");
    appendFileSync(log, `${JSON.stringify({ type: "turn_context", payload: { model: "gpt-é" } })}\n`);
    live.read();
    assert.equal(live.model?.(), "gpt-é");
    live.close?.();
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("a usage record counts as soon as it is logged, before the commands its response asked for have run", () => {
  const home = mkdtempSync(join(tmpdir(), "baton-rollout-"));
  try {
    const { id, day, file } = thread(Date.now());
    mkdirSync(join(home, "sessions", day), { recursive: true });
    const log = join(home, "sessions", day, file);
    // As codex 0.169 logs a response that asks for a command: the record at once, the count once the
    // command has run (a long build, say).
    const record = (thread: string, input: number) =>
      `${JSON.stringify({
        type: "token_usage_record",
        payload: {
          thread_id: thread,
          usage: { input_tokens: 1, output_tokens: 0 },
          turn_token_usage: { input_tokens: 2, output_tokens: 0 },
          thread_token_usage: { input_tokens: input, output_tokens: 7 },
        },
      })}\n`;
    writeFileSync(log, `${JSON.stringify({ type: "response_item", payload: { type: "function_call" } })}\n`);
    const live = codexRolloutUsage(id, { CODEX_HOME: home });
    assert.equal(live.read(), undefined);

    appendFileSync(log, record(id, 2000));
    assert.deepEqual([live.read()?.inputTokens, live.read()?.outputTokens], [2000, 7], "the thread's total");
    appendFileSync(log, record("0000-another-thread", 9000));
    assert.equal(live.read()?.inputTokens, 2000, "another thread's record is not this one's");
    appendFileSync(log, tokenCount(2500, 8));
    assert.equal(live.read()?.inputTokens, 2500, "a later count is newer than the record");
    appendFileSync(log, tokenCount(2600, 8) + record(id, 3000));
    assert.equal(live.read()?.inputTokens, 3000, "of a count and a record read together, the later one");
    appendFileSync(log, record(id, 3100) + tokenCount(3200, 8));
    assert.equal(live.read()?.inputTokens, 3200);
    live.close?.();
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("a thread counts as held only once its log has taken in the task, a follow-up once it has taken in more", () => {
  const home = mkdtempSync(join(tmpdir(), "baton-rollout-"));
  try {
    const { id, day, file } = thread(Date.UTC(2026, 10, 30, 5, 34, 46, 742));
    const env = { CODEX_HOME: home };
    assert.equal(codexHasThread(id, env), false, "no log at all");
    mkdirSync(join(home, "sessions", day), { recursive: true });
    const path = join(home, "sessions", day, file);
    // What codex writes as the thread starts, before the task (lines as codex 0.169 writes them).
    const line = (value: unknown) => appendFileSync(path, `${JSON.stringify(value)}\n`);
    line({ type: "session_meta", payload: { id } });
    line({ type: "event_msg", payload: { type: "task_started" } });
    line({ type: "response_item", payload: { type: "message", role: "user", content: [] } });
    line({ type: "turn_context", payload: { model: "m" } });
    assert.equal(codexHasThread(id, env), false, "the log is there, the task not yet");
    line({
      type: "event_msg",
      payload: { type: "item_completed", item: { type: "UserMessage", content: [] } },
    });
    assert.equal(codexHasThread(id, env), true);

    // A follow-up's text counts once codex has taken it in, as the item or as the older event.
    const userItem = (text: string) =>
      line({
        type: "event_msg",
        payload: { type: "item_completed", item: { type: "UserMessage", content: [{ type: "text", text }] } },
      });
    userItem("the task\n");
    assert.equal(codexHoldsMessage(id, "now the second part", env), false, "only the task so far");
    line({
      type: "response_item",
      payload: { type: "message", role: "user", content: [{ text: "now the second part" }] },
    });
    assert.equal(codexHoldsMessage(id, "now the second part", env), false, "sent, not yet taken in");
    userItem("now the second part\n");
    assert.equal(codexHoldsMessage(id, "now the second part\n", env), true);
    assert.equal(codexHoldsMessage(id, "now the second", env), false, "the whole text, not a part of it");
    line({ type: "event_msg", payload: { type: "user_message", message: "and a third" } });
    assert.equal(codexHoldsMessage(id, "and a third", env), true);
    assert.equal(codexHoldsMessage(id, "now the second part", env), false, "held, but not the last");
    userItem(RESUME_PROMPT);
    assert.equal(
      codexHoldsMessage(id, "and a third", env),
      true,
      "Baton's resume prompts after it do not count",
    );
    userItem("the task\n");
    assert.equal(codexHoldsMessage(id, "the task", env), true);
    assert.equal(codexHoldsMessage(id, "and a third", env), false, "a later message of its own");

    // Counted as a follow-up is sent: one repeating the message before it is held only once the
    // thread holds more messages than then (Baton's resume prompts do not count).
    const sent = codexThreadMessages(id, env);
    assert.equal(sent, 5, "the first, empty one, the task, the second, the third, the task again");
    assert.equal(codexHoldsMessage(id, "the task", env, sent), false, "the same text, not taken in again");
    userItem(RESUME_PROMPT);
    assert.equal(codexHoldsMessage(id, "the task", env, sent), false, "a resume prompt is no message");
    userItem("the task\n");
    assert.equal(codexHoldsMessage(id, "the task", env, sent), true, "taken in");
    assert.equal(codexThreadMessages(id, env), 6);

    // A message whose character is split between two reads of the log is read whole.
    const size = () => statSync(path).size;
    const text = "la clé à molette";
    const record = JSON.stringify({
      type: "event_msg",
      payload: { type: "item_completed", item: { type: "UserMessage", content: [{ type: "text", text }] } },
    });
    const before = Buffer.byteLength(record.slice(0, record.indexOf("é")));
    const fill = 65_536 - 1 - size() - before; // the boundary falls after the first byte of "é"
    const pad = JSON.stringify({ type: "response_item", payload: { pad: "" } });
    line({ type: "response_item", payload: { pad: "a".repeat(fill - Buffer.byteLength(pad) - 1) } });
    appendFileSync(path, `${record}\n`);
    assert.equal(readFileSync(path).subarray(65_535, 65_537).toString("utf8"), "é", "split as meant");
    assert.equal(codexHoldsMessage(id, text, env), true);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
