import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { WorkerInfo, WorkerResult } from "../dist/index.js";
import type { ScriptedMessages } from "../dist/scripted-model/index.js";
import { type ClaudeStep, ClaudeWorkspace, LONG, resumable, scriptLine } from "./support/claude.ts";
import { until, waitForState, workerProcesses } from "./support/faults.ts";
import type { Workspace } from "./support/harness.ts";

// Real Claude Code workers whose model misbehaves, that are stopped from outside, or whose
// supervisor dies: against a scripted Messages server.

describe("claude workers when things go wrong", () => {
  let c: ClaudeWorkspace;
  let ws: Workspace;
  let model: ScriptedMessages;
  before(async () => {
    c = await ClaudeWorkspace.create();
    ({ ws, model } = c);
  });
  after(() => c.cleanup());

  const spawn = (args: readonly string[]) => c.spawn(args);
  const resultOf = (id: string) => c.resultOf(id);
  const run = (name: string, steps: readonly ClaudeStep[], flags: string[] = []) => c.run(name, steps, flags);
  const requestsFor = (name: string) => c.requestsFor(name);
  const untilRunning = (id: string, command: string) => c.untilRunning(id, command);

  test("a worker lost with its supervisor is resumed in its own session", async () => {
    const id = await spawn(["--role", "implementer", resumable("claude-long")]);
    await untilRunning(id, LONG);
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
    const result = await ws.json<WorkerResult>(["result", id]);
    assert.equal(result.answer, "claude-long finished after resume");
    assert.equal(result.threadId, threadId);
    assert.equal(result.resumes, 1);
    const request = model.requests.find((r) => r.userText.includes("previous session was cut off"));
    assert.equal(request?.sessionId, threadId, "resumed with --resume <its session id>");
    assert.match(request?.userText ?? "", /claude-long/, "with its own history");
  });

  test("a model 500 is a transient failure: Baton runs the worker again and the retry answers", async () => {
    // Claude Code itself tries 3 times (CLAUDE_CODE_MAX_RETRIES=2), then Baton retries in a new session.
    const once = {
      type: "attempts",
      steps: [
        { type: "http_error", status: 500 },
        { type: "message", text: "fine now" },
      ],
    };
    const result = await run("claude-500", [once, once, once] as ClaudeStep[]);
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(result.answer, "fine now");
    assert.equal(result.retries, 1);
    const sessions = requestsFor("claude-500").map((r) => r.sessionId);
    assert.equal(sessions.length, 4, "three requests of the first attempt, one of the retry");
    assert.equal(new Set(sessions).size, 2, "the retry runs in a session of its own");
    assert.match(
      await ws.ok(["logs", result.id]),
      /\[baton\] retry 1 of 2 after a transient failure: .*API Error: 500/,
    );
  });

  test("a model 400 is not retried", async () => {
    // Claude Code sends a 400 five more times at once, dropping its beta headers one by one.
    const bad = { type: "failed", code: "invalid", message: "bad request" } as const;
    const result = await run(
      "claude-400",
      Array.from({ length: 8 }, () => bad),
    );
    assert.equal(result.state, "failed");
    assert.equal(result.retries, 0);
    assert.equal(result.reason?.kind, "exit");
    assert.match(result.reason?.kind === "exit" ? (result.reason.message ?? "") : "", /API Error: 400/);
  });

  test("a model that never answers is ended by Baton's idle watchdog, leaving no process", async () => {
    const result = await run("claude-hang", [{ type: "hang" }], ["--idle-timeout", "2", "--retries", "0"]);
    assert.equal(result.state, "timed_out");
    assert.deepEqual(result.reason, { kind: "timeout", limit: "idle", seconds: 2 });
    assert.deepEqual(workerProcesses(ws, result.id), []);
  });

  test("stop ends a worker in the middle of a command, leaving no process", async () => {
    const id = await spawn([
      "--role",
      "implementer",
      `claude-stop\n${scriptLine([{ type: "shell", command: LONG }])}`,
    ]);
    await untilRunning(id, LONG);
    const stopped = await ws.json<{ stopped: string[] }>(["stop", id, "--grace", "1"]);
    assert.deepEqual(stopped.stopped, [id]);
    const result = await resultOf(id);
    assert.equal(result.state, "canceled");
    assert.deepEqual(result.reason, { kind: "stopped", by: "user", via: "stop" });
    assert.deepEqual(
      workerProcesses(ws, id),
      [],
      "not even the command, which Claude Code runs in its own session",
    );
  });

  test("interrupt while the model thinks: Claude Code exits 0 without a result, and the worker is canceled", async () => {
    const id = await spawn([`claude-interrupt\n${scriptLine([{ type: "hang" }])}`]);
    await waitForState(ws, id, "running");
    await until("the model is asked", () => requestsFor("claude-interrupt").length > 0);
    await ws.ok(["interrupt", id]);
    assert.equal((await ws.baton(["wait", id, "--timeout", "30"])).code, 1);
    const result = await resultOf(id);
    assert.equal(result.state, "canceled");
    assert.deepEqual(result.reason, { kind: "stopped", by: "user", via: "interrupt" });
    assert.deepEqual(workerProcesses(ws, id), []);
  });

  test("a token budget stops a worker in the middle of its turn, from its per-response usage", async () => {
    const result = await run(
      "claude-spender",
      [{ type: "shell", command: LONG, usage: { input_tokens: 5000, output_tokens: 10 } }],
      ["--role", "implementer", "--max-tokens", "1000"],
    );
    assert.equal(result.state, "over_budget", JSON.stringify(result.reason));
    assert.ok(
      result.reason?.kind === "budget" && result.reason.scope === "worker" && result.reason.used >= 5000,
    );
    assert.ok(result.usage.inputTokens >= 5000, "counted before the turn ended");
    assert.deepEqual(workerProcesses(ws, result.id), []);
  });
});
