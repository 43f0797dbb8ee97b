import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { Baton, type WorkerResult } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { connectMcp, FIXTURES, Workspace } from "./support/harness.ts";

// Fewer round trips for an orchestrator: several workers from one `baton spawn`, one worker's answer
// from one `baton spawn --wait`, several answers from one `baton result`, and the MCP spawn of
// several tasks. Real codex workers against the scripted model, each told what to answer.

/** A task whose worker answers `answer`. */
const asking = (name: string, answer: string) =>
  `${name}\n${modelScriptLine([{ type: "message", text: answer }])}`;

const ids = (stdout: string) => stdout.trim().split("\n");

describe("several workers in one call", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript(() => ({ type: "message", text: "unscripted" })));
  });
  after(() => ws.cleanup());

  test("repeated --task starts one worker each and prints their ids in order, one a line", async () => {
    const out = await ws.ok([
      "spawn",
      "--label",
      "trio",
      "--task",
      asking("first", "answer-one"),
      "--task",
      asking("second", "answer-two"),
      "--task",
      asking("third", "answer-three"),
    ]);
    const started = ids(out);
    assert.equal(started.length, 3);
    assert.ok(
      started.every((id) => /^w[0-9]+$/.test(id)),
      out,
    );
    const waited = await ws.baton(["wait", ...started]);
    assert.equal(waited.code, 0, waited.stderr);
    const answers = await Promise.all(started.map(async (id) => (await ws.ok(["result", id])).trim()));
    assert.deepEqual(answers, ["answer-one", "answer-two", "answer-three"], "each id is its own task's");
    const labels = await Promise.all(
      started.map(async (id) => (await ws.json<WorkerResult>(["result", id])).label),
    );
    assert.deepEqual(labels, ["trio", "trio", "trio"], "the other options apply to each");
  });

  test("--tasks - takes one JSON object a line, each with its own label and role; --json prints an array", async () => {
    const lines = [
      JSON.stringify({ task: asking("scouting", "scouted"), label: "scout", role: "scout" }),
      "",
      JSON.stringify({ task: asking("reviewing", "reviewed"), label: "review", role: "reviewer" }),
    ].join("\n");
    const started = JSON.parse(
      await ws.ok(["spawn", "--tasks", "-", "--json"], { input: lines }),
    ) as string[];
    assert.equal(started.length, 2);
    assert.equal((await ws.baton(["wait", ...started])).code, 0);
    const results = JSON.parse(await ws.ok(["result", ...started, "--json"])) as WorkerResult[];
    assert.deepEqual(
      results.map((r) => [r.id, r.label, r.role, r.answer]),
      [
        [started[0], "scout", "scout", "scouted"],
        [started[1], "review", "reviewer", "reviewed"],
      ],
    );
  });

  test("--tasks FILE reads the lines from a file", async () => {
    const file = join(ws.dir, "tasks.jsonl");
    writeFileSync(file, `${JSON.stringify({ task: asking("from a file", "filed"), label: "filed" })}\n`);
    const [id] = ids(await ws.ok(["spawn", "--tasks", file]));
    assert.equal((await ws.baton(["wait", id!])).code, 0);
    assert.equal((await ws.ok(["result", id!])).trim(), "filed");
  });

  test("a bad task line is refused in one line naming it, and no worker starts", async () => {
    const before = (await ws.json<{ workers: unknown[] }>(["ls"])).workers.length;
    const cases: [string, string, RegExp][] = [
      ["not JSON", `${JSON.stringify({ task: "fine" })}\nnot json\n`, /--tasks stdin line 2: not JSON/],
      ["an unknown field", `${JSON.stringify({ task: "x", colour: "red" })}\n`, /unknown field "colour"/],
      [
        "an unknown role",
        `${JSON.stringify({ task: "x", role: "boss" })}\n`,
        /line 1: "role" must be one of scout, /,
      ],
      ["an empty task", `${JSON.stringify({ task: "" })}\n`, /line 1: "task" is empty/],
      // In the CLI's words, not the schema library's ("Invalid input: expected string, received undefined").
      [
        "no task",
        `${JSON.stringify({ label: "x" })}\n`,
        /line 1: "task" is missing or not text: give \{"task": "..."\}$/m,
      ],
      [
        "a list for a line",
        `${JSON.stringify([{ task: "a" }])}\n`,
        /line 1: the line must be one object, like/,
      ],
      [
        "one path for write",
        `${JSON.stringify({ task: "x", write: "/etc" })}\n`,
        /line 1: "write" must be a list of paths/,
      ],
      [
        "a word for readOnly",
        `${JSON.stringify({ task: "x", readOnly: "yes" })}\n`,
        /line 1: "readOnly" must be true or false/,
      ],
      ["no lines", "\n\n", /no task lines/],
    ];
    for (const [what, input, message] of cases) {
      const run = await ws.baton(["spawn", "--tasks", "-"], { input });
      assert.equal(run.code, 2, `${what}: ${run.stderr}`);
      assert.match(run.stderr, message, what);
      assert.equal(run.stderr.trim().split("\n").length, 1, `${what}: one line, no stack: ${run.stderr}`);
    }
    for (const args of [["spawn", "--task", "a", "words too"], ["spawn"], ["spawn", "--task", "  "]]) {
      const run = await ws.baton(args);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    }
    assert.equal((await ws.json<{ workers: unknown[] }>(["ls"])).workers.length, before, "none started");
  });

  test("spawn --wait prints the one worker's answer, exit 0 when it succeeded", async () => {
    const run = await ws.baton(["spawn", "--wait", "--label", "quick", asking("quick", "quick answer")]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "quick answer\n");
  });

  test("spawn --wait exits 1 and says why when the worker did not succeed", async () => {
    const run = await ws.baton(["spawn", "--wait", "--codex-bin", "/bin/false", "fails at once"]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /^baton: worker w[0-9]+ failed: /);
  });

  test("spawn --wait with several tasks prints each answer under a header naming its worker", async () => {
    const run = await ws.baton([
      "spawn",
      "--wait",
      "--task",
      asking("alpha", "alpha done"),
      "--task",
      asking("beta", "beta done"),
      "--label",
      "pair",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const headers = [...run.stdout.matchAll(/^## (w[0-9]+) \(pair\): succeeded$/gm)].map((m) => m[1]);
    assert.equal(headers.length, 2, run.stdout);
    assert.match(
      run.stdout,
      /\(pair\): succeeded\n\nalpha done\n\n## w[0-9]+ \(pair\): succeeded\n\nbeta done\n$/,
    );
    const json = await ws.baton([
      "spawn",
      "--wait",
      "--json",
      "--task",
      asking("gamma", "g"),
      "--task",
      asking("delta", "d"),
    ]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(
      (JSON.parse(json.stdout) as WorkerResult[]).map((r) => [r.state, r.answer]),
      [
        ["succeeded", "g"],
        ["succeeded", "d"],
      ],
    );
  });

  test("result ID... and result --all print every answer under its header; one that has not ended is named, exit 1", async () => {
    const started = ids(
      await ws.ok(["spawn", "--task", asking("one", "one done"), "--task", asking("two", "two done")]),
    );
    assert.equal((await ws.baton(["wait", ...started])).code, 0);
    const both = await ws.baton(["result", ...started]);
    assert.equal(both.code, 0, both.stderr);
    assert.equal(
      both.stdout,
      `## ${started[0]}: succeeded\n\none done\n\n## ${started[1]}: succeeded\n\ntwo done\n`,
    );
    const all = await ws.baton(["result", "--all"]);
    const listed = (await ws.json<{ workers: { id: string }[] }>(["ls"])).workers.map((w) => w.id);
    const headed = [...all.stdout.matchAll(/^## (w[0-9]+)/gm)].map((m) => m[1]);
    assert.deepEqual(
      headed,
      [...listed].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))),
      "every worker, in id order",
    );
    assert.equal(all.code, 1, "one of them failed (the /bin/false worker)");
    assert.match(
      all.stderr,
      /^baton: [0-9]+ of [0-9]+ workers have no answer: did not succeed w[0-9]+( w[0-9]+)*\n$/,
    );
    // A worker still running has no answer yet: its header says so, in place.
    const idle = (await ws.ok(["spawn", "--codex-bin", join(FIXTURES, "idle-agent.sh"), "idle"])).trim();
    const mixed = await ws.baton(["result", started[0]!, idle]);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stdout, new RegExp(`^## ${idle}: worker ${idle} is still (queued|running)`, "m"));
    assert.match(mixed.stdout, /one done/);
    // The closing line says why each has no answer: not ended yet, or not there at all.
    const why = await ws.baton(["result", started[0]!, idle, "w999"]);
    assert.equal(
      why.stderr,
      `baton: 2 of 3 workers have no answer: not in this workspace w999 (see baton ls); not ended yet ${idle} (baton wait ${idle})\n`,
    );
    const json = JSON.parse((await ws.baton(["result", started[0]!, idle, "--json"])).stdout) as {
      id: string;
      error?: { code: string };
    }[];
    assert.deepEqual(
      json.map((r) => [r.id, r.error?.code]),
      [
        [started[0], undefined],
        [idle, "not_finished"],
      ],
    );
    await ws.ok(["stop", idle, "--grace", "0"]);
    assert.equal((await ws.baton(["result", "--all", "w1"])).code, 2, "ids or --all, not both");
  });

  test("Baton.spawnMany starts each task on one connection, ids in order; a refused task is named, the others start", async () => {
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    try {
      const started = await baton.spawnMany([
        { task: asking("lib one", "lib-1") },
        { task: asking("lib two", "lib-2"), label: "second" },
      ]);
      assert.equal(started.length, 2);
      await baton.wait(started);
      const results = await baton.results(started);
      assert.deepEqual(
        results.map((r) => ("answer" in r ? r.answer : r.error.message)),
        ["lib-1", "lib-2"],
      );
      await assert.rejects(
        baton.spawnMany([{ task: asking("fine", "ok") }, { task: "nowhere", cwd: join(ws.dir, "missing") }]),
        (error: Error) => /^task 2 of 2: --cwd .* is not a folder.*; started: w[0-9]+$/.test(error.message),
      );
      await baton.wait();
    } finally {
      baton.close();
    }
  });
});

describe("the MCP spawn of several tasks", () => {
  let ws: Workspace;
  let client: Client;
  before(async () => {
    ws = await Workspace.create(directiveScript(() => ({ type: "message", text: "unscripted" })));
    client = await connectMcp(ws, { stderr: "inherit" });
  });
  after(async () => {
    await client.close();
    await ws.cleanup();
  });

  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as { content: { text: string }[]; isError?: boolean };

  test("spawn with tasks returns one id a line, in order; each task keeps its own fields", async () => {
    const spawned = await call("spawn", {
      tasks: [
        { task: asking("mcp one", "mcp-1"), label: "m1" },
        { task: asking("mcp two", "mcp-2"), label: "m2", role: "scout" },
      ],
      role: "reviewer",
    });
    assert.ok(!spawned.isError, spawned.content[0]?.text);
    const started = ids(spawned.content[0]?.text ?? "");
    assert.equal(started.length, 2);
    assert.equal((await ws.baton(["wait", ...started])).code, 0);
    const results = JSON.parse(await ws.ok(["result", ...started, "--json"])) as WorkerResult[];
    assert.deepEqual(
      results.map((r) => [r.label, r.role, r.answer]),
      [
        ["m1", "reviewer", "mcp-1"],
        ["m2", "scout", "mcp-2"],
      ],
    );
  });

  test("spawn with both task and tasks, or neither, is a tool error that says how to call it", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { task: "a", tasks: [{ task: "b" }] },
        /^spawn: give task or tasks, not both\. Call it like: .*"tasks"/,
      ],
      [{ label: "none" }, /^spawn: field "task" is missing\. Call it like: .*"tasks"/],
    ];
    for (const [args, message] of cases) {
      const refused = await call("spawn", args);
      assert.equal(refused.isError, true);
      assert.match(refused.content[0]?.text ?? "", message);
    }
  });
});
