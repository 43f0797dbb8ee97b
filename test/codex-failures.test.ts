import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerInfo, WorkerResult } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { waitForState } from "./support/faults.ts";
import { alive, FIXTURES, processesWithEnv, Workspace } from "./support/harness.ts";

// Real codex workers whose model misbehaves, and workers stopped from outside.

/** Processes of worker `id` still alive, found by the marker Baton puts in their environment. */
function leftovers(ws: Workspace, id: string): number[] {
  const status = JSON.parse(readFileSync(join(ws.home, "workers", id, "status.json"), "utf8"));
  const marked = processesWithEnv(`BATON_WORKER_ID=${id}`).filter((pid) =>
    readFileSync(`/proc/${pid}/environ`, "latin1").includes(ws.home),
  );
  return status.pid && alive(status.pid) ? [status.pid, ...marked] : marked;
}

describe("codex workers when things go wrong", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());
  const modelAsked = (task: string) =>
    ws.model.asked((request) => request.userText.includes(task), AbortSignal.timeout(30_000));

  test("a model that answers HTTP 500 fails the worker with the reason", async () => {
    const id = (
      await ws.ok([
        "spawn",
        "--retries",
        "0",
        `fail\n${modelScriptLine([{ type: "http_error", status: 500 }])}`,
      ])
    ).trim();
    const waited = await ws.baton(["wait", id]);
    assert.equal(waited.code, 1, "wait reports the failure in its exit status");
    const result = await ws.json<WorkerResult>(["result", id]).catch(() => undefined);
    assert.equal(result, undefined, "result --json exits non-zero for a failed worker");
    const raw = await ws.baton(["result", id, "--json"]);
    assert.equal(raw.code, 1);
    const parsed = JSON.parse(raw.stdout) as WorkerResult;
    assert.equal(parsed.state, "failed");
    assert.equal(parsed.exitCode, 1);
    assert.equal(parsed.reason?.kind, "exit");
    // codex words a 500 as "high demand"; what matters is that the agent's own reason is kept.
    assert.ok(parsed.reason?.kind === "exit" && parsed.reason.message && parsed.reason.message.length > 5);
  });

  test("a prompt codex refuses fails the worker with codex's own reason, in result and logs", async () => {
    // Codex takes at most 1 MiB of characters in one turn; it exits saying so on stderr, with no event.
    // With RUST_BACKTRACE set (as some users have it), codex adds its backtrace, a line per frame.
    const env = { ...ws.env, RUST_BACKTRACE: "1" };
    const input = `too long\n${"x".repeat(1_100_000)}\n`;
    const id = (await ws.ok(["spawn", "-"], { input, env })).trim();
    assert.equal((await ws.baton(["wait", id])).code, 1);
    const raw = await ws.baton(["result", id, "--json"]);
    const result = JSON.parse(raw.stdout) as WorkerResult;
    assert.equal(result.state, "failed");
    assert.ok(result.reason?.kind === "exit", JSON.stringify(result.reason));
    assert.match(
      result.reason.message ?? "",
      /Input exceeds the maximum length/,
      JSON.stringify(result.reason),
    );
    assert.equal(result.retries, 0, "not a failure of the model's service: no retry");
    const logs = await ws.ok(["logs", id]);
    assert.match(logs, /Input exceeds the maximum length/);
    // People read the backtrace as one line; the bytes are all in --raw.
    const frames = Number(
      /^Stack backtrace: (\d+) frames \(`baton logs --raw` shows them\)$/m.exec(logs)?.[1],
    );
    assert.ok(frames > 0, logs);
    assert.doesNotMatch(logs, /^\s*\d+: /m, logs);
    const rawLogs = (await ws.ok(["logs", id, "--raw"])).split("\n");
    assert.equal(rawLogs.filter((line) => /^\s*\d+: /.test(line)).length, frames);
  });

  test("a failure message of any length is kept whole in the transcript, and capped in the result", async () => {
    const detail = `${"very long detail ".repeat(1500)}END-OF-DETAIL`;
    const body = JSON.stringify({ error: { message: detail, type: "invalid_request_error" } });
    const id = (
      await ws.ok(["spawn", `refused\n${modelScriptLine([{ type: "http_error", status: 400, body }])}`])
    ).trim();
    assert.equal((await ws.baton(["wait", id])).code, 1);
    const result = JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
    assert.equal(result.state, "failed");
    const message = result.reason?.kind === "exit" ? (result.reason.message ?? "") : "";
    assert.match(message, /very long detail/, JSON.stringify(result.reason).slice(0, 500));
    assert.match(message, /… \(\d+ more characters: `baton logs ID --raw` has them all\)$/);
    assert.ok(message.length < 2100, `${message.length} characters`);
    assert.match(
      await ws.ok(["logs", id, "--raw"]),
      /END-OF-DETAIL/,
      "the whole message is in the transcript",
    );
  });

  test("a model that never answers is ended by --timeout as timed_out, leaving no process", async () => {
    const id = (
      await ws.ok(["spawn", "--timeout", "2", `hang\n${modelScriptLine([{ type: "hang" }])}`])
    ).trim();
    const waited = await ws.baton(["wait", id]);
    assert.equal(waited.code, 1);
    const raw = await ws.baton(["result", id, "--json"]);
    const result = JSON.parse(raw.stdout) as WorkerResult;
    assert.equal(result.state, "timed_out");
    assert.deepEqual(result.reason, { kind: "timeout", limit: "wall", seconds: 2 });
    assert.deepEqual(leftovers(ws, id), []);
  });

  test("stop ends a running worker as canceled, leaving no process", async () => {
    const id = (await ws.ok(["spawn", `stop me\n${modelScriptLine([{ type: "stall" }])}`])).trim();
    await modelAsked("stop me"); // codex is up, and waits on the model
    const stopped = await ws.json<{ stopped: string[] }>(["stop", id, "--grace", "1"]);
    assert.deepEqual(stopped.stopped, [id]);
    const result = JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
    assert.equal(result.state, "canceled");
    assert.deepEqual(leftovers(ws, id), []);
  });

  test("interrupt sends Ctrl+C: codex ends and the worker is canceled", async () => {
    const id = (await ws.ok(["spawn", `interrupt me\n${modelScriptLine([{ type: "hang" }])}`])).trim();
    await modelAsked("interrupt me"); // codex is up, and waits on the model
    await ws.ok(["interrupt", id]);
    const waited = await ws.baton(["wait", id, "--timeout", "20"]);
    assert.equal(waited.code, 1);
    const result = JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
    assert.equal(result.state, "canceled");
    assert.deepEqual(result.reason, { kind: "stopped", by: "user", via: "interrupt" });
    assert.deepEqual(leftovers(ws, id), []);
  });

  test("workers past --max-parallel queue in order and all finish", async () => {
    // The first worker holds its place until told to quit, so the queue is there to be seen.
    const holder = (
      await ws.ok([
        "spawn",
        "--max-parallel",
        "1",
        "--codex-bin",
        join(FIXTURES, "interactive-agent.mjs"),
        "hold",
      ])
    ).trim();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const prompt = `queued ${i}\n${modelScriptLine([{ type: "message", text: `q${i}` }])}`;
      ids.push((await ws.ok(["spawn", prompt])).trim());
    }
    await waitForState(ws, holder, "running");
    const listing = await ws.json<{ workers: WorkerInfo[] }>(["ls"]);
    const queued = ids.map((id) => listing.workers.find((w) => w.id === id));
    assert.deepEqual(
      queued.map((w) => [w?.state, w?.queuePosition]),
      [
        ["queued", 1],
        ["queued", 2],
        ["queued", 3],
      ],
    );
    await ws.ok(["send", holder, "quit"]);
    assert.equal((await ws.baton(["wait", holder, ...ids])).code, 0);
    const results = await Promise.all(ids.map((id) => ws.json<WorkerResult>(["result", id])));
    assert.deepEqual(
      results.map((r) => r.answer.trim()),
      ["q0", "q1", "q2"],
    );
    const started = results.map((r) => Date.parse(r.endedAt) - r.durationMs);
    assert.deepEqual(
      [...started].sort((a, b) => a - b),
      started,
      "started in spawn order",
    );
    await ws.ok(["config", "--max-parallel", "8"]);
  });
});
