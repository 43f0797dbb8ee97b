import assert from "node:assert/strict";
import { existsSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { CLI, Workspace } from "./support/harness.ts";

// Real codex workers against the scripted model. Each worker's prompt carries its own model script.

describe("codex workers", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(
      directiveScript((request) => ({ type: "message", text: `echo ${request.turn}` })),
    );
  });
  after(() => ws.cleanup());

  test("eight workers run in parallel and each gets its own answer", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const prompt = `worker ${i}\n${modelScriptLine([{ type: "message", text: `answer-${i}` }])}`;
      ids.push((await ws.ok(["spawn", "--label", `par-${i}`, prompt])).trim());
    }
    const waited = await ws.baton(["wait", ...ids]);
    assert.equal(waited.code, 0, waited.stderr);
    for (const [i, id] of ids.entries()) {
      assert.equal((await ws.ok(["result", id])).trim(), `answer-${i}`);
      const result = await ws.json<WorkerResult>(["result", id]);
      assert.equal(result.state, "succeeded");
      assert.equal(result.label, `par-${i}`);
      assert.ok(result.threadId, "thread id recorded");
      assert.ok(result.usage.inputTokens > 0, "usage recorded");
    }
    // Overlap: the model saw all eight sessions before any of them could have been run one by one.
    const starts = ws.model.requests.filter((r) => /worker [0-7]/.test(r.userText)).length;
    assert.equal(starts, 8);
  });

  test("a writer runs a shell command and edits a file", async () => {
    const prompt = [
      "make notes.txt",
      modelScriptLine([
        { type: "shell", command: "echo from-shell > shell.txt && cat shell.txt" },
        {
          type: "patch",
          patch: "*** Begin Patch\n*** Add File: notes.txt\n+written by the worker\n*** End Patch",
        },
        { type: "message", text: "wrote notes.txt" },
      ]),
    ].join("\n");
    const id = (await ws.ok(["spawn", "--role", "implementer", prompt])).trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    assert.equal((await ws.ok(["result", id])).trim(), "wrote notes.txt");
    assert.equal(readFileSync(join(ws.dir, "shell.txt"), "utf8"), "from-shell\n");
    assert.equal(readFileSync(join(ws.dir, "notes.txt"), "utf8"), "written by the worker\n");
    const events = readFileSync(join(ws.home, "workers", id, "events.jsonl"), "utf8");
    assert.match(events, /"type":"command"/);
    assert.match(events, /"type":"file_change"/);
  });

  test("a confined writer runs commands on a machine where codex has never run outside Baton", async () => {
    // Codex makes /tmp/codex-daemon-<uid> before it runs any command, and /tmp is read-only inside
    // Baton's sandbox: Baton makes the folder first, and mounts the sandbox's own over it. An empty
    // one is removed here (codex makes it again on its next run) so that this worker meets the
    // machine as it is after a reboot.
    const daemonDir = `/tmp/codex-daemon-${process.getuid!()}`;
    try {
      rmdirSync(daemonDir);
    } catch {} // missing already, or in use by the user's own codex: left as it is
    const prompt = [
      "run a command",
      modelScriptLine([
        { type: "shell", command: `echo ran > ran.txt; touch ${daemonDir}/planted` },
        { type: "message", text: "ran" },
      ]),
    ].join("\n");
    const id = (await ws.ok(["spawn", "--role", "implementer", prompt])).trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    assert.equal(readFileSync(join(ws.dir, "ran.txt"), "utf8"), "ran\n");
    const made = statSync(daemonDir);
    assert.equal(made.isDirectory() && (made.mode & 0o777) === 0o700, true, "made owner-only");
    assert.equal(existsSync(join(daemonDir, "planted")), false, "the folder inside is the sandbox's own");
  });

  test("a read-only worker is refused a write", async () => {
    const prompt = [
      "try to write",
      modelScriptLine([
        { type: "shell", command: "echo nope > forbidden.txt" },
        { type: "message", text: "tool said: {{output}}" },
      ]),
    ].join("\n");
    const id = (await ws.ok(["spawn", "--read-only", prompt])).trim();
    await ws.baton(["wait", id]);
    const answer = await ws.ok(["result", id]);
    assert.match(answer, /Read-only file system|Permission denied|not permitted/i);
    assert.equal(existsSync(join(ws.dir, "forbidden.txt")), false);
    const spec = JSON.parse(readFileSync(join(ws.home, "workers", id, "spec.json"), "utf8"));
    assert.equal(spec.scope.kind, "read-only");
  });

  test("a 1 MB prompt of quotes, $(), backticks and non-ASCII reaches the model intact", async () => {
    const unit = `'"\`$(rm -rf /)\` $HOME \\n ; | & > < 日本語 ñ 🎉 \t` + "\u00e9\u0301 ";
    let prompt = unit.repeat(Math.ceil((1024 * 1024) / Buffer.byteLength(unit)));
    const marker = `HUGE-${Date.now()}`;
    prompt = `${marker}\n${prompt}`;
    const id = (await ws.ok(["spawn", "-"], { input: prompt })).trim();
    await ws.baton(["wait", id]);
    const received = ws.model.requests.find((r) => r.userText.includes(marker));
    assert.ok(received, "the model received the prompt");
    const start = received.userText.indexOf(marker);
    assert.equal(
      received.userText.slice(start, start + prompt.length),
      prompt,
      "the prompt arrived byte for byte",
    );
    assert.ok(received.userText.includes("CONTEXT: WORKER"), "the worker preamble came first");
  });

  test("a worker cannot spawn workers", async () => {
    const prompt = [
      "try to nest",
      modelScriptLine([
        { type: "shell", command: `${process.execPath} ${CLI} spawn nested-task; echo "exit=$?"` },
        { type: "message", text: "nested said: {{output}}" },
      ]),
    ].join("\n");
    const id = (await ws.ok(["spawn", prompt])).trim();
    await ws.baton(["wait", id]);
    const answer = await ws.ok(["result", id]);
    assert.match(answer, /workers cannot spawn workers/);
    assert.match(answer, /exit=1/);
    const listing = await ws.json<{ workers: { task?: string; id: string }[] }>(["ls"]);
    assert.ok(!listing.workers.some((w) => w.id !== id && Number(w.id.slice(1)) > Number(id.slice(1))));
  });
});
