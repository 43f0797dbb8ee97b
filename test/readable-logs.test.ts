import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { PollResult } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { FIXTURES, Workspace } from "./support/harness.ts";

// `baton logs` and `baton poll` are for people: what the worker said and did, not codex's JSON lines.
// `--raw` gives the transcript's exact bytes. Real codex workers against the scripted model.

const HALF_LINE = join(FIXTURES, "half-line-agent.mjs");

describe("readable logs and poll", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  const transcript = (id: string) => readFileSync(join(ws.home, "workers", id, "transcript.log"), "utf8");

  test("logs shows messages, commands with their exit codes, changed files and the final answer; --raw the exact bytes", async () => {
    const prompt = [
      "make notes.txt",
      modelScriptLine([
        { type: "shell", command: "echo checking" },
        { type: "shell", command: "sh -c 'exit 3'" },
        {
          type: "patch",
          patch: "*** Begin Patch\n*** Add File: notes.txt\n+written by the worker\n*** End Patch",
        },
        { type: "message", text: "wrote notes.txt\nand checked it" },
      ]),
    ].join("\n");
    const id = (await ws.ok(["spawn", "--role", "implementer", prompt])).trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);

    const logs = await ws.baton(["logs", id]);
    assert.equal(logs.code, 0, logs.stderr);
    const text = logs.stdout;
    assert.doesNotMatch(text, /\{"type":/, `no JSON lines: ${text}`);
    assert.doesNotMatch(text, /\r/, "no CR of the terminal");
    assert.match(text, /^thread [0-9a-f-]+$/m);
    assert.match(text, /^\$ .*echo checking.*\n {2}exit 0$/m, text);
    assert.match(text, /^\$ .*exit 3.*\n {2}exit 3$/m, text);
    assert.match(text, /^changed: .*notes\.txt$/m, text);
    assert.match(text, /^final answer:\n {2}wrote notes\.txt\n {2}and checked it$/m, text);
    assert.match(text, /^turn done \([0-9,]+ tokens\)$/m, text);
    assert.match(logs.stderr, new RegExp(`^\\[${id} succeeded\\]$`, "m"));

    const raw = await ws.ok(["logs", id, "--raw"]);
    assert.equal(raw, transcript(id), "--raw is the transcript, byte for byte");
    assert.match(raw, /\{"type":"thread\.started"/);
  });

  test("logs shows a failed turn's error", async () => {
    const prompt = `fail\n${modelScriptLine([{ type: "failed", code: "invalid_prompt", message: "the model refused: boom" }])}`;
    const id = (await ws.ok(["spawn", "--retries", "0", prompt])).trim();
    assert.equal((await ws.baton(["wait", id])).code, 1);
    const text = await ws.ok(["logs", id]);
    assert.match(text, /^(error|turn failed): .*boom/m, text);
    assert.doesNotMatch(text, /\{"type":/);
  });

  test("poll is readable by default, --raw and --json keep the bytes, and the cursor is the same byte offset", async () => {
    const prompt = `say hi\n${modelScriptLine([{ type: "message", text: "hi there" }])}`;
    const id = (await ws.ok(["spawn", prompt])).trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const size = Buffer.byteLength(transcript(id));

    const readable = await ws.baton(["poll", id, "--reader", "person"]);
    assert.equal(readable.code, 0, readable.stderr);
    assert.match(readable.stdout, /^final answer:\n {2}hi there$/m);
    assert.doesNotMatch(readable.stdout, /\{"type":/);
    assert.match(readable.stderr, new RegExp(`\\[${id} succeeded, cursor ${size}\\]`));

    const raw = await ws.baton(["poll", id, "--reader", "script", "--raw"]);
    assert.equal(raw.stdout, transcript(id), "--raw: the exact bytes");
    assert.match(raw.stderr, new RegExp(`cursor ${size}\\]`));
    const json = await ws.json<PollResult>(["poll", id, "--reader", "program"]);
    assert.equal(json.output, transcript(id));
    assert.equal(json.cursor, size);

    const again = await ws.baton(["poll", id, "--reader", "person"]);
    assert.equal(again.stdout, "", "each byte once per reader");
  });

  test("a readable poll never cuts a line: the cursor stops before a line still being written", async () => {
    const id = (await ws.ok(["spawn", "--codex-bin", HALF_LINE, "half"])).trim();
    let shown = "";
    let cursor = 0;
    for (let i = 0; i < 50 && !shown.includes("half a line follows"); i++) {
      const polled = await ws.baton(["poll", id, "--reader", "person", "--wait", "5000"]);
      shown += polled.stdout;
      cursor = Number(/cursor ([0-9]+)\]/.exec(polled.stderr)?.[1]);
    }
    assert.match(shown, /^fixture: half a line follows$/m);
    // The raw bytes hold half an event past the readable cursor; the readable view showed none of it.
    const raw = await ws.json<PollResult>(["poll", id, "--reader", "raw"]);
    assert.ok(raw.cursor > cursor, `raw ${raw.cursor} > readable ${cursor}`);
    assert.match(raw.output.slice(-40), /[a-z"]$/, "the raw transcript ends in the middle of a line");
    assert.doesNotMatch(shown, /item\.completed|agent_mes/);

    await ws.ok(["send", id, "go"]);
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const rest = await ws.baton(["poll", id, "--reader", "person"]);
    assert.equal(rest.stdout, "final answer:\n  whole answer\n", "the line came whole");
  });
});
