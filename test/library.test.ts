import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pty from "@lydell/node-pty";
import { Baton, BatonError } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { CLI, printedBy, Workspace } from "./support/harness.ts";

describe("the library API", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  test("spawn, wait and result through the library", async () => {
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    try {
      const ids = await Promise.all(
        ["alpha", "beta"].map((name) =>
          baton.spawn({
            task: `lens ${name}\n${modelScriptLine([{ type: "message", text: `from ${name}` }])}`,
            label: name,
          }),
        ),
      );
      const waited = await baton.wait(ids);
      assert.equal(waited.timedOut, false);
      assert.deepEqual(
        waited.workers.map((w) => w.state),
        ["succeeded", "succeeded"],
      );
      assert.deepEqual(await Promise.all(ids.map(async (id) => (await baton.result(id)).answer.trim())), [
        "from alpha",
        "from beta",
      ]);
      // The listing of some workers only: those asked for that there are, nothing else.
      const some = await baton.list(undefined, { workers: [ids[1]!, "w999"] });
      assert.deepEqual(
        some.workers.map((w) => [w.id, w.state]),
        [[ids[1], "succeeded"]],
      );
      assert.ok((await baton.list()).workers.length >= 2);
    } finally {
      baton.close();
    }
  });

  test("wait --any returns when the first of several ends", async () => {
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    try {
      const quick = await baton.spawn({
        task: `quick\n${modelScriptLine([{ type: "message", text: "q" }])}`,
      });
      const slow = await baton.spawn({
        task: `slow\n${modelScriptLine([{ type: "hang" }])}`,
        timeoutSeconds: 60,
      });
      const waited = await baton.wait([quick, slow], { any: true });
      assert.deepEqual(
        waited.workers.map((w) => [w.id, w.state]),
        [
          [quick, "succeeded"],
          [slow, "running"],
        ],
      );
      const cli = await ws.baton(["wait", quick, slow, "--any"]);
      assert.equal(cli.code, 0, "--any judges only the worker that ended");
      const timedOut = await ws.baton(["wait", slow, "--timeout", "0.5"]);
      assert.equal(timedOut.code, 124);
      await baton.stop([slow], { graceSeconds: 1 });
    } finally {
      baton.close();
    }
  });

  test("an aborted wait rejects with a BatonError and leaves the worker running", async () => {
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    try {
      const id = await baton.spawn({ task: `hang\n${modelScriptLine([{ type: "hang" }])}` });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      await assert.rejects(baton.wait([id], {}, controller.signal), (e: unknown) => e instanceof BatonError);
      const other = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
      const { workers } = await other.list();
      assert.equal(workers.find((w) => w.id === id)?.state, "running");
      await other.stop([id], { graceSeconds: 1 });
      other.close();
    } finally {
      baton.close();
    }
  });

  test("a worker outlives the terminal that started it", async () => {
    // `baton spawn` runs in a real terminal, which is then closed (the shell gets SIGHUP).
    const script = `${process.execPath} ${CLI} spawn "survive\n${modelScriptLine([
      { type: "shell", command: "sleep 2" },
      { type: "message", text: "still here" },
    ]).replaceAll('"', '\\"')}"; sleep 30`;
    const term = pty.spawn("/bin/sh", ["-c", script], { cwd: ws.dir, env: ws.env as Record<string, string> });
    const printed = printedBy(term);
    await printed.until(/w\d+/);
    const id = /(w\d+)/.exec(printed.text)?.[1];
    assert.ok(id, `spawn printed an id: ${printed.text}`);
    term.kill("SIGHUP");
    const waited = await ws.baton(["wait", id, "--timeout", "60"]);
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal((await ws.ok(["result", id])).trim(), "still here");
  });
});
