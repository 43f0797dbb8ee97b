import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { PollResult, WorkerResult } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { FIXTURES, processesWithEnv, sleep, Workspace } from "./support/harness.ts";

// Fixture agents (tiny scripts run as the agent binary) show what codex cannot: huge output and
// programs that talk to their terminal.

const INTERACTIVE = join(FIXTURES, "interactive-agent.mjs");
const FLOOD = join(FIXTURES, "flood-agent.mjs");

describe("workers in real terminals", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  test("send types into the worker's terminal, and the agent answers", async () => {
    const id = (await ws.ok(["spawn", "--codex-bin", INTERACTIVE, "talk to me"])).trim();
    const first = await ws.printed(id, /ready> /, "a");
    assert.match(first, /fixture: prompt has \d+ bytes/);
    await ws.ok(["send", id, "hello there"]);
    assert.match(await ws.printed(id, /you said hello there/, "a"), /you said hello there/);
    await ws.ok(["send", id, "quit"]);
    assert.equal((await ws.baton(["wait", id])).code, 0);
    assert.equal((await ws.ok(["result", id])).trim(), "bye");
  });

  test("interrupt delivers Ctrl+C as a terminal would: SIGINT to the agent", async () => {
    const id = (await ws.ok(["spawn", "--codex-bin", INTERACTIVE, "wait for ctrl-c"])).trim();
    await ws.printed(id, /ready> /, "b");
    await ws.ok(["interrupt", id]);
    await ws.baton(["wait", id]);
    const logs = await ws.ok(["logs", id]);
    assert.match(logs, /fixture: got Ctrl\+C/);
    const result = JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
    assert.equal(result.state, "canceled");
    assert.equal(result.exitCode, 130);
  });

  test("poll is bounded, says how much it cut, and keeps a cursor per reader", async () => {
    const env = { ...ws.env, FLOOD_BYTES: String(1_000_000) };
    const id = (await ws.baton(["spawn", "--codex-bin", FLOOD, "flood"], { env })).stdout.trim();
    // Wait until the whole flood is in the transcript.
    let size = 0;
    for (let i = 0; i < 100 && size < 1_000_000; i++) {
      size = (
        await ws.json<PollResult>(["poll", id, "--reader", "probe", "--since", "0", "--max-bytes", "1"])
      ).cursor;
      await sleep(100);
    }
    assert.ok(size >= 1_000_000, `transcript reached ${size} bytes`);

    const first = await ws.json<PollResult>(["poll", id, "--reader", "r1", "--max-bytes", "1000"]);
    assert.ok(Buffer.byteLength(first.output) <= 1000);
    assert.ok(Buffer.byteLength(first.output) >= 996, "cut only to a character boundary");
    assert.equal(first.cut + Buffer.byteLength(first.output), first.cursor, "cut + shown = all new output");
    assert.doesNotMatch(first.output, /\uFFFD/, "never splits a UTF-8 character");
    assert.equal(first.state, "running");

    const again = await ws.json<PollResult>(["poll", id, "--reader", "r1"]);
    assert.equal(again.output, "", "the same reader sees nothing new");
    assert.equal(again.cursor, first.cursor);

    const other = await ws.json<PollResult>(["poll", id, "--reader", "r2", "--max-bytes", "10000000"]);
    assert.equal(other.cut, 0);
    assert.equal(Buffer.byteLength(other.output), other.cursor, "another reader starts from the beginning");
    assert.match(other.output, /line 00000000/);

    await ws.ok(["send", id, "more"]);
    const tail = await ws.printed(id, /FINAL LINE/, "r1");
    assert.doesNotMatch(tail, /line 00000000/, "r1 continues from its cursor");

    const human = await ws.baton(["poll", id, "--since", "0", "--max-bytes", "50"]);
    assert.match(human.stdout, /earlier bytes cut/);
    assert.equal((await ws.baton(["wait", id])).code, 0);
  });

  test("what an agent leaves running gets SIGTERM to clean up, then SIGKILL", async () => {
    const file = join(ws.dir, "leftover-cleaned.txt");
    const env = { ...ws.env, LEFTOVER_FILE: file };
    const id = (
      await ws.baton(
        [
          "spawn",
          "--write",
          "leftover-cleaned.txt",
          "--codex-bin",
          join(FIXTURES, "leftover-agent.sh"),
          "leave things",
        ],
        { env },
      )
    ).stdout.trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    assert.equal((await ws.ok(["result", id])).trim(), "left two behind");
    assert.equal(readFileSync(file, "utf8").trim(), "cleaned", "the leftover got SIGTERM and cleaned up");
    const left = processesWithEnv(`BATON_WORKER_ID=${id}`).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, "latin1").includes(ws.home);
      } catch {
        return false;
      }
    });
    assert.deepEqual(left, [], "the one that ignored SIGTERM was killed before the worker ended");
  });

  test("a reader's poll cursor outlives the supervisor", async () => {
    const id = (await ws.ok(["spawn", "--codex-bin", join(FIXTURES, "count-agent.sh"), "count me"])).trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const first = await ws.json<PollResult>(["poll", id, "--reader", "lead"]);
    assert.match(first.output, /prompt bytes: \d+/);
    const before = ws.supervisorPid();
    await ws.ok(["shutdown"]);
    const again = await ws.json<PollResult>(["poll", id, "--reader", "lead"]);
    assert.notEqual(ws.supervisorPid(), before, "a new supervisor answered");
    assert.equal(again.output, "", "the reader's cursor was kept: nothing is shown twice");
    assert.equal(again.cursor, first.cursor);
    const other = await ws.json<PollResult>(["poll", id, "--reader", "someone-else"]);
    assert.equal(other.output, first.output, "another reader still starts from the beginning");
  });

  test("poll --wait returns when output arrives, not at the deadline", async () => {
    const id = (await ws.ok(["spawn", "--codex-bin", INTERACTIVE, "slow"])).trim();
    await ws.printed(id, /ready> /, "w");
    const pending = ws.json<PollResult>(["poll", id, "--reader", "w", "--wait", "60000"]);
    await sleep(300);
    await ws.ok(["send", id, "ping"]);
    const started = Date.now();
    const result = await pending;
    assert.match(result.output, /ping/);
    assert.ok(Date.now() - started < 30_000, "returned long before the 60 s deadline");
    await ws.ok(["stop", id]);
  });

  test("stop --all ends every worker and nothing is left running", async () => {
    const ids = [
      (await ws.ok(["spawn", "--codex-bin", INTERACTIVE, "one"])).trim(),
      (await ws.ok(["spawn", "--codex-bin", join(FIXTURES, "idle-agent.sh"), "two"])).trim(),
    ];
    await ws.printed(ids[0]!, /ready> /, "s");
    const stopped = await ws.json<{ stopped: string[] }>(["stop", "--all", "--grace", "1"]);
    assert.deepEqual([...stopped.stopped].sort(), [...ids].sort());
    for (const id of ids) {
      const result = JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
      assert.equal(result.state, "canceled");
    }
  });
});
