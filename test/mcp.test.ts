import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { ModelRequest, ScriptStep } from "../dist/scripted-model/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { busy, CLI, Workspace } from "./support/harness.ts";

// `baton mcp` as an MCP client sees it: the SDK's own client over stdio, a real server process,
// real codex workers against the scripted model.

const TOOLS = [
  "spawn",
  "poll",
  "send",
  "interrupt",
  "stop",
  "wait",
  "result",
  "list",
  "plan_update",
  "plan_show",
  "run_pattern",
];

const say = (text: string): ScriptStep => ({ type: "message", text });

/** Workers of the options pattern answer from their prompt; everything else follows its MODEL-SCRIPT. */
function fallback(request: ModelRequest): ScriptStep {
  const option = /Propose option ([ABC])/.exec(request.userText)?.[1];
  if (option) return say(`Option ${option}: plan ${option.toLowerCase()}`);
  if (request.userText.includes("Choose the best option")) {
    return say(JSON.stringify({ choice: "B", reason: "B is simplest", refined: "plan b, refined" }));
  }
  return say("done");
}

describe("baton mcp", () => {
  let ws: Workspace;
  let client: Client;
  const call = async (name: string, args: Record<string, unknown>) => {
    const result = (await client.callTool({ name, arguments: args })) as {
      content: { type: string; text: string }[];
      isError?: boolean;
    };
    return { text: result.content.map((c) => c.text).join(""), isError: result.isError === true };
  };

  before(async () => {
    ws = await Workspace.create(directiveScript(fallback));
    client = new Client({ name: "test", version: "1" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, "mcp"],
        cwd: ws.dir,
        env: ws.env as Record<string, string>,
        stderr: "inherit",
      }),
    );
  });
  after(async () => {
    await client.close();
    await ws.cleanup();
  });

  test("lists the eleven tools, each with a short description and a schema", async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      TOOLS,
    );
    for (const tool of tools) {
      assert.ok((tool.description ?? "").length > 20, `${tool.name} has a description`);
      assert.ok((tool.description ?? "").length < 400, `${tool.name}'s description is short`);
      assert.equal(tool.inputSchema.type, "object");
    }
    const spawn = tools.find((t) => t.name === "spawn");
    assert.deepEqual(spawn?.inputSchema.required, ["task"]);
    assert.equal(spawn?.inputSchema.additionalProperties, false);
    const poll = tools.find((t) => t.name === "poll")?.inputSchema.properties as Record<
      string,
      { maximum?: number }
    >;
    assert.equal(poll.maxBytes?.maximum, 65_536, "poll states its bound");
  });

  test("bad arguments are a tool error that shows a correct call", async () => {
    const missing = await call("spawn", {});
    assert.equal(missing.isError, true);
    assert.match(missing.text, /^spawn: field "task" is missing\. Call it like: \{"task":/);
    const unknown = await call("spawn", { prompt: "hi" });
    assert.match(unknown.text, /unknown field "prompt" \(known: task, label, role/);
    const badId = await call("result", { id: "worker-1" });
    assert.match(badId.text, /field "id": worker ids look like w1, w2, \.\.\. Call it like: \{"id":"w1"\}$/);
    const tooLong = await call("wait", { timeoutSeconds: 5000 });
    assert.match(tooLong.text, /field "timeoutSeconds".*600.*Call it like/);
    const role = await call("spawn", { task: "x", role: "boss" });
    assert.match(role.text, /field "role".*scout.*Call it like/);
    const both = await call("plan_update", {});
    assert.match(both.text, /either plan or advance/);
    const nothing = await call("stop", {});
    assert.match(nothing.text, /say which workers/);
    const unknownWorker = await call("result", { id: "w99" });
    assert.equal(unknownWorker.isError, true);
    assert.match(unknownWorker.text, /w99/);
  });

  test("spawn, poll bounded, wait, then result gives the final answer only", async () => {
    const noisy = "for n in $(seq 1 300); do echo line-$n-of-worker-output; done";
    const task = `noisy worker\n${modelScriptLine([{ type: "shell", command: noisy }, say("FINAL-ANSWER-42")])}`;
    const spawned = await call("spawn", { task, label: "noisy" });
    assert.equal(spawned.isError, false, spawned.text);
    assert.match(spawned.text, /^w[0-9]+$/);
    const id = spawned.text;

    const waited = await call("wait", { ids: [id], timeoutSeconds: 120 });
    assert.match(waited.text, new RegExp(`^all ended\\n${id} \\(noisy\\) succeeded`));

    const polled = await call("poll", { id, since: 0, maxBytes: 300 });
    const [head, ...body] = polled.text.split("\n");
    assert.match(head ?? "", new RegExp(`^${id} succeeded; cursor [0-9]+; [0-9]+ earlier bytes cut$`));
    assert.ok(Buffer.byteLength(body.join("\n")) <= 300, "poll returns at most maxBytes of output");

    const result = await call("result", { id });
    assert.equal(result.text, "FINAL-ANSWER-42");

    const listed = await call("list", {});
    assert.match(listed.text, new RegExp(`${id}\\s+noisy\\s+-\\s+succeeded`));
  });

  test("a failed worker's result says how it ended; interrupt and send on an ended worker are errors", async () => {
    const task = `fails\n${modelScriptLine([{ type: "failed", code: "server_error", message: "model exploded" }])}`;
    const id = (await call("spawn", { task })).text;
    await call("wait", { ids: [id], timeoutSeconds: 120 });
    const result = await call("result", { id });
    assert.match(result.text, new RegExp(`^${id} failed: `));
    const interrupted = await call("interrupt", { id });
    assert.equal(interrupted.isError, true);
    const sent = await call("send", { id, text: "hello" });
    assert.equal(sent.isError, true);
  });

  test("stop ends a running worker; wait returns at its timeout while workers run", async () => {
    const task = `slow\n${modelScriptLine([...busy(), say("never")])}`;
    const id = (await call("spawn", { task })).text;
    const waited = await call("wait", { ids: [id], timeoutSeconds: 1 });
    assert.match(waited.text, new RegExp(`^still running after 1s: ${id}`));
    const stopped = await call("stop", { ids: [id], graceSeconds: 1 });
    assert.equal(stopped.text, `stopped ${id}`);
    const result = await call("result", { id });
    assert.match(result.text, new RegExp(`^${id} canceled`));
  });

  test("plan_update and plan_show share the workspace plan with the CLI", async () => {
    const set = await call("plan_update", {
      explanation: "mcp plan",
      plan: [
        { step: "Scout", status: "in_progress" },
        { step: "Fix", status: "pending" },
        { step: "Verify", status: "pending" },
      ],
    });
    assert.equal(set.text, "mcp plan\n\n[>] Scout\n[ ] Fix\n[ ] Verify");
    const advanced = await call("plan_update", { advance: true });
    assert.match(advanced.text, /\[x\] Scout\n\[>\] Fix/);
    assert.match(await ws.ok(["plan", "show"]), /\[x\] Scout\n\[>\] Fix\n\[ \] Verify/);
    const shown = await call("plan_show", {});
    assert.equal(shown.text, advanced.text);
    const broken = await call("plan_update", {
      plan: [
        { step: "A", status: "in_progress" },
        { step: "B", status: "in_progress" },
      ],
    });
    assert.equal(broken.isError, true);
    assert.match(broken.text, /in_progress/);
  });

  test("run_pattern returns a run id while it runs, then its one result", async () => {
    const started = await call("run_pattern", {
      pattern: "options",
      task: "Plan the migration",
      count: 2,
      waitSeconds: 0,
    });
    assert.match(
      started.text,
      /^run p1 \(options\) is still running, at step "[^"]+"(; workers running: [w0-9 ]+)?\. Call run_pattern with \{"run": "p1"\}/,
    );
    const done = await call("run_pattern", { run: "p1", waitSeconds: 300 });
    assert.equal(done.isError, false, done.text);
    assert.match(done.text, /Selected: option B/);
    assert.match(done.text, /plan b, refined/);
    assert.match(done.text, /\(run r[0-9]+, saved in .+result\.md\)$/);
    const unknown = await call("run_pattern", { run: "p9" });
    assert.match(unknown.text, /no run "p9" here \(runs: p1\)/);
    const bad = await call("run_pattern", { pattern: "review", task: "x", lenses: ["vibes"] });
    assert.match(bad.text, /field "lenses.0".*Call it like/);
  });
});

describe("baton mcp, when its client goes away", () => {
  test("a pattern run still going is stopped with its workers; spawned workers keep running", async () => {
    const ws = await Workspace.create(directiveScript(fallback));
    type Row = { id: string; label: string; state: string };
    const until = async (done: (all: Row[]) => boolean): Promise<Row[]> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const all = (await ws.json<{ workers: Row[] }>(["ls"])).workers;
        if (done(all) || Date.now() > deadline) return all;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    try {
      const client = new Client({ name: "test", version: "1" });
      await client.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [CLI, "mcp"],
          cwd: ws.dir,
          env: ws.env as Record<string, string>,
        }),
      );
      const slow = modelScriptLine([...busy(), say("late")]);
      await client.callTool({ name: "spawn", arguments: { task: `on its own\n${slow}`, label: "alone" } });
      const started = await client.callTool({
        name: "run_pattern",
        arguments: { pattern: "options", task: `Plan it\n${slow}`, count: 2, waitSeconds: 0 },
      });
      assert.match(JSON.stringify(started), /still running/);
      await until((all) => all.filter((w) => w.state === "running").length === 3);
      await client.close();
      const ended = await until((all) => all.filter((w) => w.state === "canceled").length === 2);
      assert.deepEqual(ended.map((w) => [w.label.replace(/^r[0-9]+:/, ""), w.state]).sort(), [
        ["alone", "running"],
        ["option-A", "canceled"],
        ["option-B", "canceled"],
      ]);
    } finally {
      await ws.cleanup();
    }
  });
});
