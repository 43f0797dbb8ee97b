import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { Baton } from "../dist/index.js";
import type { ModelRequest, ScriptStep } from "../dist/scripted-model/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { busy, connectMcp, FIXTURES, Workspace } from "./support/harness.ts";

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
  "events",
  "plan_update",
  "plan_show",
  "run_pattern",
];

const say = (text: string): ScriptStep => ({ type: "message", text });

/** An answer of about 50 KB, with an emoji across the 20,000th character, where `result` cuts by default. */
const BIG_ANSWER = (() => {
  const rows = Array.from({ length: 1000 }, (_, i) => `row ${String(i).padStart(4, "0")} ${"x".repeat(40)}`);
  const text = rows.join("\n");
  return `${text.slice(0, 19_999)}\u{1F600}${text.slice(19_999)}\nTHE-END`;
})();
/** An everyday answer, with what a careless cut or trim would change. */
const NORMAL_ANSWER = [
  "## Findings",
  "",
  "  1. `parseRange` drops the last item\t(off by one)",
  "  2. caf\u00e9 \u201cquoted\u201d \u2014 \u{1F600}",
  "",
  "```ts",
  "const x = [1, 2, 3].slice(0, -1);",
  "```",
  "Next step: fix it.",
].join("\n");

/** Workers of the options pattern answer from their prompt; everything else follows its MODEL-SCRIPT. */
function fallback(request: ModelRequest): ScriptStep {
  if (request.userText.includes("ANSWER-BIG")) return say(BIG_ANSWER);
  if (request.userText.includes("ANSWER-NORMAL")) return say(NORMAL_ANSWER);
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
    client = await connectMcp(ws, { stderr: "inherit" });
  });
  after(async () => {
    await client.close();
    await ws.cleanup();
  });

  test("lists the twelve tools, each with a short description and a schema", async () => {
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
    // One worker's task, or several workers' tasks: either is given (the tool says so when neither is).
    assert.equal(spawn?.inputSchema.required, undefined);
    assert.ok(spawn?.inputSchema.properties && "tasks" in spawn.inputSchema.properties, "spawn takes tasks");
    assert.equal(spawn?.inputSchema.additionalProperties, false);
    const poll = tools.find((t) => t.name === "poll")?.inputSchema.properties as Record<
      string,
      { maximum?: number }
    >;
    assert.equal(poll.maxBytes?.maximum, 65_536, "poll states its bound");
    const bounds = (name: string) => {
      const tool = tools.find((t) => t.name === name);
      return {
        text: tool?.description ?? "",
        input: tool?.inputSchema.properties as Record<string, { maximum?: number }>,
      };
    };
    assert.equal(bounds("result").input.maxChars?.maximum, 100_000, "result states its bound");
    assert.match(bounds("result").text, /default 20000, max 100000/);
    assert.equal(bounds("list").input.limit?.maximum, 500, "list states its bound");
    assert.match(bounds("list").text, /default 50, max 500/);
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
    const neither = await call("plan_update", {});
    assert.equal(neither.isError, true);
    assert.match(
      neither.text,
      /^plan_update: give either plan or advance: true\. Call it like: \{"plan": \[/,
    );
    const status = await call("plan_update", { plan: [{ step: "Scout", status: "doing" }] });
    assert.match(status.text, /^plan_update: field "plan\.0\.status": .*Call it like: \{"plan":\[/);
    const nothing = await call("stop", {});
    assert.equal(nothing.isError, true);
    assert.equal(nothing.text, 'stop: say which workers. Call it like: {"ids": ["w2"]} or {"all": true}');
    const both = await call("stop", { ids: ["w1"], all: true });
    assert.equal(both.text, 'stop: give ids or all: true, not both. Call it like: {"ids": ["w2"]}');
    const grace = await call("stop", { ids: ["w1"], graceSeconds: -1 });
    assert.match(grace.text, /^stop: field "graceSeconds": .*Call it like: \{"ids":\["w2"\]\}$/);
    const limit = await call("list", { limit: 501 });
    assert.match(limit.text, /^list: field "limit": .*500.*Call it like: \{"limit":50\}$/);
    const maxChars = await call("result", { id: "w1", maxChars: 0 });
    assert.match(maxChars.text, /^result: field "maxChars": .*Call it like: \{"id":"w1"\}$/);
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

    // One call catches up on what happened to it, and the last line says where to go on from.
    const events = await call("events", { since: 0, workers: [id], max: 500 });
    assert.equal(events.isError, false, events.text);
    const lines = events.text.split("\n");
    const states = lines.filter((l) =>
      new RegExp(`^#[0-9]+ [0-9:]{8} ${id} (queued|running|succeeded)$`).test(l),
    );
    assert.deepEqual(
      states.map((l) => l.split(" ").at(-1)),
      ["queued", "running", "succeeded"],
      events.text,
    );
    const next = /^\(next: call events with since ([0-9]+)\)$/.exec(lines.at(-1) ?? "")?.[1];
    assert.ok(next, events.text);
    const none = await call("events", { since: Number(next), workers: [id], waitMs: 10 });
    assert.equal(none.text, `(no new events)\n(next: call events with since ${next})`);
    const few = await call("events", { since: 0, max: 2 });
    assert.match(few.text, /^#1 .*\n#2 .*\n\(more: call events with since 2\)$/);
    // Only state moves, when asked: the same three, and nothing else of the worker's.
    const moves = await call("events", { since: 0, workers: [id], types: ["state"], max: 500 });
    const moveLines = moves.text.split("\n").slice(0, -1);
    assert.deepEqual(
      moveLines.map((l) => l.replace(/^#[0-9]+ [0-9:]{8} /, "")),
      [`${id} queued`, `${id} running`, `${id} succeeded`],
      moves.text,
    );
    const unknown = await call("events", { since: 0, types: ["nonsense"] });
    assert.equal(unknown.isError, true);
    assert.match(unknown.text, /types/);
  });

  test("result returns an everyday answer byte for byte, and cuts a 50 KB one with a line saying how to read on", async () => {
    const big = (await call("spawn", { task: "ANSWER-BIG", label: "big" })).text;
    const normal = (await call("spawn", { task: "ANSWER-NORMAL", label: "normal" })).text;
    const waited = await call("wait", { ids: [big, normal], timeoutSeconds: 120 });
    assert.match(waited.text, /^all ended\n/);
    const stored = async (id: string) => (await ws.json<{ answer: string }>(["result", id])).answer;
    assert.equal(await stored(big), BIG_ANSWER, "codex passed the answer on whole");
    assert.equal(await stored(normal), NORMAL_ANSWER);

    assert.equal((await call("result", { id: normal })).text, NORMAL_ANSWER);
    const exact = await call("result", { id: normal, maxChars: NORMAL_ANSWER.length });
    assert.equal(exact.text, NORMAL_ANSWER, "an answer of exactly maxChars is not cut");

    const cut = await call("result", { id: big });
    assert.equal(cut.isError, false);
    const left = (BIG_ANSWER.length - 19_999).toLocaleString("en-US");
    const total = BIG_ANSWER.length.toLocaleString("en-US");
    assert.equal(
      cut.text,
      `${BIG_ANSWER.slice(0, 19_999)}\n[baton: answer cut here, ${left} of its ${total} characters left out: ` +
        `read on with result {"id": "${big}", "offset": 19999}, or run \`baton result ${big}\` for all of it]`,
      "the first 20,000 characters less the half emoji, then one line",
    );
    const rest = await call("result", { id: big, offset: 19_999, maxChars: 100_000 });
    assert.equal(rest.text, BIG_ANSWER.slice(19_999), "the rest, from the whole emoji on, with no notice");
    const page = await call("result", { id: big, offset: 100, maxChars: 50 });
    assert.equal(page.text.split("\n[baton: answer cut here, ")[0], BIG_ANSWER.slice(100, 150));
    assert.match(page.text, /"offset": 150\}, or run/);
    const past = await call("result", { id: big, offset: BIG_ANSWER.length });
    assert.equal(past.isError, true);
    assert.equal(past.text, `result: ${big}'s answer has ${total} characters; give an offset below that.`);
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
    // What its workers used together; the scripted model has no price, which is said, never $0.
    assert.match(done.text, /\nSpent: 3 workers, [\d,]+ tokens, unpriced\n\(run r/);
    const unknown = await call("run_pattern", { run: "p9" });
    assert.match(unknown.text, /no run "p9" here \(runs: p1\)/);
    const bad = await call("run_pattern", { pattern: "review", task: "x", lenses: ["vibes"] });
    assert.match(bad.text, /field "lenses.0".*Call it like/);
  });
});

describe("baton mcp list, with many workers", () => {
  test("shows unfinished workers first, then the newest finished, up to limit, and counts the rest", async () => {
    const ws = await Workspace.create(directiveScript());
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    let client: Client | undefined;
    try {
      // Fixture agents, not codex: two that idle, then 58 that answer at once.
      const idle = join(FIXTURES, "idle-agent.sh");
      const count = join(FIXTURES, "count-agent.sh");
      const running = [
        await baton.spawn({ task: "idle", label: "idle", bin: idle, maxParallel: 16 }),
        await baton.spawn({ task: "idle", label: "idle", bin: idle }),
      ];
      const done = await Promise.all(
        Array.from({ length: 58 }, (_, i) => baton.spawn({ task: "count", label: `c${i + 1}`, bin: count })),
      );
      const waited = await baton.wait(done, { timeoutMs: 60_000 });
      assert.equal(waited.timedOut, false);
      assert.deepEqual(running, ["w1", "w2"]);

      const mcp = await connectMcp(ws);
      client = mcp;
      const list = async (args: Record<string, unknown>) => {
        const result = (await mcp.callTool({ name: "list", arguments: args })) as {
          content: { text: string }[];
        };
        const lines = (result.content[0]?.text ?? "").split("\n");
        return { ids: lines.slice(1).flatMap((l) => /^(w[0-9]+) /.exec(l)?.[1] ?? []), lines };
      };
      const ids = (from: number, to: number) =>
        Array.from({ length: to - from + 1 }, (_, i) => `w${from + i}`);

      const byDefault = await list({});
      assert.deepEqual(byDefault.ids, ["w1", "w2", ...ids(13, 60)]);
      assert.match(byDefault.lines[1] ?? "", /^w1\s+idle\s+-\s+running/);
      assert.deepEqual(byDefault.lines.slice(51), [
        "(10 older finished workers not shown: call list with a larger limit (max 500), or run `baton ls` for all)",
        "(at most 16 run at once)",
      ]);

      const five = await list({ limit: 5 });
      assert.deepEqual(five.ids, ["w1", "w2", "w58", "w59", "w60"]);
      assert.match(five.lines.join("\n"), /\(55 older finished workers not shown: /);
      const one = await list({ limit: 1 });
      assert.deepEqual(one.ids, ["w1"]);
      assert.match(one.lines.join("\n"), /\(1 unfinished and 58 older finished workers not shown: /);
      const all = await list({ limit: 500 });
      assert.equal(all.ids.length, 60);
      assert.deepEqual(all.lines.slice(61), ["(at most 16 run at once)"], "nothing left out, nothing to say");

      // wait on all 60: the headline names the two still running; ended workers come first, 50 lines at most.
      const waited60 = (await mcp.callTool({
        name: "wait",
        arguments: { ids: ids(1, 60), timeoutSeconds: 1 },
      })) as { content: { text: string }[] };
      const lines = (waited60.content[0]?.text ?? "").split("\n");
      assert.equal(lines[0], "still running after 1s: w1 w2 (call wait again, or poll)");
      assert.equal(lines.length, 1 + 50 + 1);
      // the 58 were spawned at once, so which label got w3 is not fixed; the order of the ids is.
      assert.deepEqual(
        lines.slice(1, 51).map((l) => /^(w[0-9]+) \(c[0-9]+\) succeeded/.exec(l)?.[1]),
        ids(3, 52),
      );
      assert.equal(lines.at(-1), "(10 more not shown: call list, or wait on fewer ids)");
    } finally {
      await client?.close();
      baton.close();
      await ws.cleanup();
    }
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
      const client = await connectMcp(ws);
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
