import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { WorkerInfo } from "../dist/index.js";
import { until, waitForState, workerProcesses } from "./support/faults.ts";
import {
  cmdline,
  type GeminiScriptStep,
  GeminiWorkspace,
  RELAUNCHING_BIN,
  resumable,
  scriptLine,
} from "./support/gemini.ts";
import type { Workspace } from "./support/harness.ts";

// Real Gemini CLI workers whose model misbehaves, that are stopped from outside, or whose supervisor
// dies: against a scripted Gemini API server.

describe("gemini workers when things go wrong", () => {
  let g: GeminiWorkspace;
  let ws: Workspace;
  before(async () => {
    g = await GeminiWorkspace.create();
    ({ ws } = g);
  });
  after(() => g.cleanup());

  const spawn = (args: readonly string[]) => g.spawn(args);
  const resultOf = (id: string) => g.resultOf(id);
  const run = (name: string, steps: readonly GeminiScriptStep[], flags: string[] = []) =>
    g.run(name, steps, flags);
  const requestsFor = (name: string) => g.requestsFor(name);

  test("a worker lost with its supervisor is resumed in its own session", async () => {
    const id = await spawn(["--role", "implementer", resumable("gemini-long")]);
    await g.untilRunning(id, "sleep 600");
    const threadId = (await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers.find(
      (w) => w.id === id,
    )?.threadId;
    assert.ok(threadId, "its session id is recorded");
    const supervisor = ws.supervisorPid();
    assert.ok(supervisor);
    process.kill(supervisor, "SIGKILL");
    const listed = (await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers.find((w) => w.id === id);
    assert.equal(listed?.state, "lost");
    assert.deepEqual(workerProcesses(ws, id), [], "nothing of it is left running");

    const resumed = await ws.json<{ resumed: { id: string; how: string; threadId?: string }[] }>([
      "resume",
      id,
    ]);
    assert.deepEqual(resumed.resumed, [{ id, how: "thread", threadId }]);
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const result = await resultOf(id);
    assert.equal(result.answer, "gemini-long finished after resume");
    assert.equal(result.threadId, threadId);
    assert.equal(result.resumes, 1);
    const request = requestsFor("gemini-long").at(-1);
    assert.match(request?.userText ?? "", /previous session was cut off/, "resumed with --resume <its id>");
    assert.match(request?.userText ?? "", /TASK: gemini-long\n/, "with its own history");
    assert.ok(
      JSON.stringify(request?.body).includes(`agents/gemini/${threadId}/`),
      "in the thread's own home",
    );
  });

  test("a model 500 is a transient failure: Baton runs the worker again and the retry answers", async () => {
    // The CLI tries twice (general.maxAttempts: 2), then Baton retries in a new session.
    const result = await run("gemini-500", [
      {
        type: "attempts",
        steps: [
          { type: "http_error", status: 500 },
          { type: "http_error", status: 500 },
          { type: "message", text: "fine now" },
        ],
      },
    ]);
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(result.answer, "fine now");
    assert.equal(result.retries, 1);
    assert.equal(requestsFor("gemini-500").length, 3, "two requests of the first attempt, one of the retry");
    assert.match(await ws.ok(["logs", result.id]), /\[baton\] retry 1 of 2 after a transient failure: .*500/);
  });

  test("a model 400 is not retried", async () => {
    const result = await run("gemini-400", [{ type: "failed", code: "invalid", message: "bad request" }]);
    assert.equal(result.state, "failed");
    assert.equal(result.retries, 0);
    assert.equal(result.reason?.kind, "exit");
    assert.match(result.reason?.kind === "exit" ? (result.reason.message ?? "") : "", /400|bad request/);
  });

  test("an invalid stream (no finish reason) is transient: Baton runs the worker again", async () => {
    // The CLI tries twice, then reports the stream and exits 0; Baton retries in a new session.
    const result = await run("gemini-invalid", [
      {
        type: "attempts",
        steps: [
          { type: "invalid", text: "cut short" },
          { type: "invalid", text: "cut short" },
          { type: "message", text: "whole at last" },
        ],
      },
    ]);
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(result.answer, "whole at last");
    assert.equal(result.retries, 1);
    assert.match(
      await ws.ok(["logs", result.id]),
      /\[baton\] retry 1 of 2 after a transient failure: Model stream ended without a finish reason/,
    );
  });

  test("after the CLI retried a broken stream, the answer is the session's, not the stream's two attempts", async () => {
    const result = await run("gemini-broken-once", [
      {
        type: "attempts",
        steps: [
          { type: "invalid", text: "half an answer" },
          { type: "message", text: "the whole answer" },
        ],
      },
    ]);
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(result.retries, 0, "the CLI's own retry was enough");
    assert.equal(result.answer, "the whole answer");
    assert.equal(result.answerSource, "last-message-file", "from the CLI's record of the session");
    assert.equal(result.answerMismatch, true, "the stream said otherwise");
  });

  test("a model that never answers is ended by Baton's idle watchdog, leaving no process", async () => {
    const result = await run("gemini-hang", [{ type: "hang" }], ["--idle-timeout", "5", "--retries", "0"]);
    assert.equal(result.state, "timed_out");
    assert.deepEqual(result.reason, { kind: "timeout", limit: "idle", seconds: 5 });
    assert.equal(requestsFor("gemini-hang").length, 1, "it was waiting on the model");
    assert.deepEqual(workerProcesses(ws, result.id), []);
  });

  test("a token budget stops a worker in the middle of a command, from the usage the CLI records", async () => {
    const result = await run(
      "gemini-budget",
      [{ type: "shell", command: "sleep 600", usage: { input_tokens: 5000 } }],
      ["--role", "implementer", "--max-tokens", "1000"],
    );
    assert.equal(result.state, "over_budget");
    assert.deepEqual(
      [result.usage.inputTokens, result.usage.outputTokens],
      [5000, 10],
      "counted before the turn ended",
    );
    assert.deepEqual(workerProcesses(ws, result.id), []);
  });

  test("stop ends a worker in the middle of a command, leaving no process, even the CLI's relauncher", async () => {
    const id = await spawn([
      "--role",
      "implementer",
      "--bin",
      RELAUNCHING_BIN,
      `gemini-stop\n${scriptLine([{ type: "shell", command: "sleep 600" }])}`,
    ]);
    await g.untilRunning(id, "sleep 600");
    const clis = workerProcesses(ws, id).filter((pid) =>
      cmdline(pid).includes("gemini-cli/bundle/gemini.js"),
    );
    assert.equal(clis.length, 2, "the relauncher and its child");
    const stopped = await ws.json<{ stopped: string[] }>(["stop", id, "--grace", "1"]);
    assert.deepEqual(stopped.stopped, [id]);
    const result = await resultOf(id);
    assert.equal(result.state, "canceled");
    assert.deepEqual(result.reason, { kind: "stopped", by: "user", via: "stop" });
    assert.deepEqual(workerProcesses(ws, id), [], "not the command, nor the relauncher's child");
  });

  test("interrupt while the model thinks: the CLI ends without a result, and the worker is canceled", async () => {
    const id = await spawn([`gemini-interrupt\n${scriptLine([{ type: "hang" }])}`]);
    await waitForState(ws, id, "running");
    await until("the model is asked", () => requestsFor("gemini-interrupt").length > 0);
    await ws.ok(["interrupt", id]);
    assert.equal((await ws.baton(["wait", id, "--timeout", "30"])).code, 1);
    const result = await resultOf(id);
    assert.equal(result.state, "canceled");
    assert.deepEqual(result.reason, { kind: "stopped", by: "user", via: "interrupt" });
    assert.deepEqual(workerProcesses(ws, id), []);
  });
});
