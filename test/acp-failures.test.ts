import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerResult } from "../dist/index.js";
import { workerProcesses } from "./support/faults.ts";
import { type GeminiScriptStep, GeminiWorkspace, scriptLine } from "./support/gemini.ts";
import type { Workspace } from "./support/harness.ts";

// ACP workers (`gemini --acp` against the scripted Gemini API server) that are stopped, interrupted,
// or whose model fails or never answers. Each test waits on Baton's own events: `baton wait`, and
// polls that return as soon as the worker's transcript grows.

describe("acp workers when things go wrong", () => {
  let g: GeminiWorkspace;
  let ws: Workspace;
  before(async () => {
    g = await GeminiWorkspace.create();
    ({ ws } = g);
  });
  after(() => g.cleanup());

  const spawn = async (name: string, steps: readonly GeminiScriptStep[], flags: string[] = []) =>
    (await ws.ok(["spawn", "--backend", "acp:gemini", ...flags, `${name}\n${scriptLine(steps)}`])).trim();
  const resultOf = async (id: string) =>
    JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
  const transcript = (id: string) => readFileSync(join(ws.home, "workers", id, "transcript.log"), "utf8");

  /** Polls worker `id` (each poll returns once its transcript grows) until it matches `pattern`. */
  async function untilTranscript(id: string, pattern: RegExp): Promise<void> {
    let seen = "";
    for (let i = 0; i < 120 && !pattern.test(seen); i++) {
      seen += await ws.ok(["poll", id, "--raw", "--wait", "1000", "--reader", "test"]);
    }
    assert.match(seen, pattern);
  }

  test("stop cancels the turn (session/cancel) and leaves no process, its command's included", async () => {
    const id = await spawn(
      "acp-stop",
      [
        { type: "shell", command: "sleep 600" },
        { type: "message", text: "never" },
      ],
      ["--role", "implementer"],
    );
    // Baton allowed the command: it runs now.
    await untilTranscript(id, /"baton\/allowed":true/);
    const stopped = await ws.baton(["stop", id]);
    assert.equal(stopped.code, 0, stopped.stderr);
    const result = await resultOf(id);
    assert.equal(result.state, "canceled");
    assert.deepEqual(result.reason, { kind: "stopped", by: "user", via: "stop" });
    assert.match(transcript(id), /"method":"session\/cancel"/);
    assert.match(transcript(id), /"stopReason":"cancelled"/, "the agent ended its turn as cancelled");
    assert.deepEqual(workerProcesses(ws, id), [], "nothing of it is left running");
  });

  test("interrupt while the model thinks cancels the turn; the worker is canceled", async () => {
    const id = await spawn("acp-interrupt", [{ type: "hang" }]);
    await untilTranscript(id, /"method":"session\/prompt"/);
    await ws.ok(["interrupt", id]);
    assert.equal((await ws.baton(["wait", id, "--timeout", "30"])).code, 1);
    const result = await resultOf(id);
    assert.equal(result.state, "canceled");
    assert.deepEqual(result.reason, { kind: "stopped", by: "user", via: "interrupt" });
    assert.match(transcript(id), /"method":"session\/cancel"/);
    assert.deepEqual(workerProcesses(ws, id), []);
  });

  test("a model that never answers is ended by Baton's idle watchdog, with no process left", async () => {
    const id = await spawn("acp-hang", [{ type: "hang" }], ["--idle-timeout", "4", "--retries", "0"]);
    assert.equal((await ws.baton(["wait", id, "--timeout", "60"])).code, 1);
    const result = await resultOf(id);
    assert.equal(result.state, "timed_out");
    assert.deepEqual(result.reason, { kind: "timeout", limit: "idle", seconds: 4 });
    assert.match(transcript(id), /"method":"session\/cancel"/, "Baton cancelled the turn first");
    assert.deepEqual(workerProcesses(ws, id), []);
  });

  test("a model 500 fails the turn with the agent's error, and Baton runs it again", async () => {
    const id = await spawn(
      "acp-500",
      // The CLI's own two attempts meet a 500 each; Baton's retry meets the answer.
      [
        {
          type: "attempts",
          steps: [
            { type: "http_error", status: 500 },
            { type: "http_error", status: 500 },
            { type: "message", text: "second try" },
          ],
        },
      ],
      ["--retries", "1"],
    );
    assert.equal((await ws.baton(["wait", id, "--timeout", "120"])).code, 0);
    const result = await resultOf(id);
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(result.answer, "second try");
    assert.equal(result.retries, 1);
    assert.match(transcript(id), /"error":\{"code":500,/, "the agent answered session/prompt with an error");
  });
});
