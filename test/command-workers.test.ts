import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { waitForState, workerProcesses } from "./support/faults.ts";
import { CLI, FIXTURES, Workspace } from "./support/harness.ts";

// The command backend through the same list as every other backend: its own answers among four in
// parallel, a writer that changes its file, a reader refused a write by Baton's sandbox, the idle
// watchdog, interrupt, and a nested spawn refused. Tiny fixture scripts in real terminals.

const fixture = (name: string) => join(FIXTURES, name);

describe("command workers, as every backend is tested", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  const resultOf = async (id: string) =>
    JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult;

  test("four in parallel, each with its own answer", async () => {
    const tasks = ["alpha", "beta", "gamma", "delta"].flatMap((name) => ["--task", `task ${name}`]);
    const ids = (await ws.ok(["spawn", "--cmd", fixture("answer-file-command.sh"), ...tasks]))
      .trim()
      .split("\n");
    assert.equal(ids.length, 4);
    assert.equal((await ws.baton(["wait", ...ids])).code, 0);
    for (const [i, name] of ["alpha", "beta", "gamma", "delta"].entries()) {
      assert.match((await resultOf(ids[i]!)).answer, new RegExp(`^answer for TASK: task ${name} `));
    }
  });

  test("a writer changes the file it may write; a reader is refused the same write by the sandbox", async () => {
    const file = join(ws.dir, "notes.txt");
    writeFileSync(file, "as it was\n");
    const reader = (await ws.ok(["spawn", "--cmd", fixture("write-command.sh"), "notes.txt"])).trim();
    assert.equal((await ws.baton(["wait", reader])).code, 1);
    const refused = await resultOf(reader);
    assert.equal(refused.state, "failed");
    assert.equal(refused.confinement, "baton");
    assert.equal(readFileSync(file, "utf8"), "as it was\n", "the reader changed nothing");
    const writer = (
      await ws.ok(["spawn", "--cmd", fixture("write-command.sh"), "--write", "notes.txt", "notes.txt"])
    ).trim();
    assert.equal((await ws.baton(["wait", writer])).code, 0);
    assert.equal((await resultOf(writer)).answer, "wrote notes.txt");
    assert.equal(readFileSync(file, "utf8"), "changed by the worker\n");
  });

  test("a command that goes quiet is ended by the idle watchdog, leaving no process", async () => {
    const id = (
      await ws.ok([
        "spawn",
        "--cmd",
        fixture("silent-command.sh"),
        "--idle-timeout",
        "2",
        "--retries",
        "0",
        "go quiet",
      ])
    ).trim();
    assert.equal((await ws.baton(["wait", id])).code, 1);
    const result = await resultOf(id);
    assert.equal(result.state, "timed_out");
    assert.deepEqual(result.reason, { kind: "timeout", limit: "idle", seconds: 2 });
    assert.deepEqual(workerProcesses(ws, id), []);
  });

  test("interrupt ends a running command, leaving no process", async () => {
    const id = (await ws.ok(["spawn", "--cmd", fixture("silent-command.sh"), "be interrupted"])).trim();
    await waitForState(ws, id, "running");
    for (
      let i = 0;
      i < 50 && !(await ws.ok(["poll", id, "--raw", "--wait", "1000"])).includes("started");
      i++
    );
    await ws.ok(["interrupt", id]);
    await ws.baton(["wait", id, "--timeout", "30"]);
    const result = await resultOf(id);
    assert.equal(result.state, "canceled", JSON.stringify(result.reason));
    assert.deepEqual(workerProcesses(ws, id), []);
  });

  test("a command cannot spawn workers of its own", async () => {
    const env = { ...ws.env, NESTED_NODE: process.execPath, NESTED_CLI: CLI };
    const spawned = await ws.baton(["spawn", "--cmd", fixture("nested-command.sh"), "try nesting"], { env });
    const id = spawned.stdout.trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const { answer } = await resultOf(id);
    assert.match(answer, /^nested spawn exit 1: baton: workers cannot spawn workers \(this is worker w\d+\)/);
  });

  test("shutdown says which workers it stopped, by id, and the supervisor", async () => {
    const tasks = ["one", "two"].flatMap((name) => ["--task", `hold ${name}`]);
    const ids = (await ws.ok(["spawn", "--cmd", fixture("silent-command.sh"), ...tasks])).trim().split("\n");
    for (const id of ids) await waitForState(ws, id, "running");
    const said = await ws.ok(["shutdown"]);
    assert.match(
      said,
      new RegExp(`^stopped 2 workers \\(${ids.join(", ")}\\) and the supervisor \\(pid \\d+\\)\\n$`),
    );
    for (const id of ids) assert.equal((await resultOf(id)).state, "canceled");
  });
});
