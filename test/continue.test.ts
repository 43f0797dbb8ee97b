import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { busy, connectMcp, FIXTURES, type RunResult, Workspace } from "./support/harness.ts";

// Follow-ups in a worker's agent thread (`spawn --continue`), `send` to a `codex exec` worker, and
// the research role's web search: real codex workers against the scripted model.

function assertOneLine(run: RunResult, pattern: RegExp): void {
  assert.notEqual(run.code, 0, `should fail: ${run.stdout}`);
  assert.equal(run.stderr.trim().split("\n").length, 1, `one line: ${run.stderr}`);
  assert.match(run.stderr, pattern);
}

describe("follow-ups and input", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  const spec = (id: string) =>
    JSON.parse(readFileSync(join(ws.home, "workers", id, "spec.json"), "utf8")) as Record<string, unknown>;

  test("spawn --continue starts a new worker in the ended worker's thread; the first result stays as it was", async () => {
    const prompt = `first task: count the files\n${modelScriptLine([
      { type: "message", text: "first answer" },
      { type: "message", text: "second answer, after {{output}}" },
    ])}`;
    const first = (await ws.ok(["spawn", "--label", "counter", "--role", "scout", prompt])).trim();
    assert.equal((await ws.baton(["wait", first])).code, 0);
    const before = await ws.json<WorkerResult>(["result", first]);
    assert.equal(before.answer, "first answer");
    assert.ok(before.threadId);

    const next = (await ws.ok(["spawn", "--continue", first, "now list them by size"])).trim();
    assert.notEqual(next, first, "its own id");
    assert.equal((await ws.baton(["wait", next])).code, 0);
    const followed = await ws.json<WorkerResult>(["result", next]);
    assert.equal(followed.state, "succeeded");
    assert.equal(followed.threadId, before.threadId, "the same agent thread");
    assert.match(followed.answer, /^second answer/);

    // The model saw the whole thread: the first task, its answer, then the follow-up, as one session.
    const request = ws.model.requests.find((r) => r.userText.includes("now list them by size"));
    assert.ok(request, "the follow-up reached the model");
    assert.match(request.userText, /first task: count the files/);
    assert.match(JSON.stringify(request.body.input), /first answer/);

    const s = spec(next);
    assert.equal(s.continues, first, "its spec names its parent");
    assert.equal(s.role, "scout", "the parent's role");
    assert.equal(s.label, "counter", "the parent's label");
    assert.equal(s.cwd, spec(first).cwd, "the parent's cwd");
    assert.deepEqual(s.scope, spec(first).scope, "the parent's scope");
    assert.deepEqual(await ws.json<WorkerResult>(["result", first]), before, "the first result is unchanged");
    assert.match(await ws.ok(["logs", next]), /final answer:\n {2}second answer/);
  });

  test("the MCP spawn tool takes continues: a follow-up in the parent's thread and cwd", async () => {
    const prompt = `mcp parent\n${modelScriptLine([
      { type: "message", text: "parent answer" },
      { type: "message", text: "child answer" },
    ])}`;
    const parent = (await ws.ok(["spawn", prompt])).trim();
    assert.equal((await ws.baton(["wait", parent])).code, 0);
    const mcp = await connectMcp(ws);
    try {
      const called = (await mcp.callTool({
        name: "spawn",
        arguments: { task: "and then?", continues: parent },
      })) as { content: { text: string }[]; isError?: boolean };
      assert.notEqual(called.isError, true, called.content[0]?.text);
      const child = called.content[0]?.text.trim() ?? "";
      assert.equal((await ws.baton(["wait", child])).code, 0);
      const result = await ws.json<WorkerResult>(["result", child]);
      assert.equal(result.answer, "child answer");
      assert.equal(result.threadId, (await ws.json<WorkerResult>(["result", parent])).threadId);
      assert.equal(spec(child).continues, parent);
      assert.equal(spec(child).cwd, spec(parent).cwd);
    } finally {
      await mcp.close();
    }
  });

  test("a follow-up of an unknown, running or threadless worker is refused in one line", async () => {
    assertOneLine(await ws.baton(["spawn", "--continue", "w999", "more"]), /no worker "w999"/);
    assertOneLine(await ws.baton(["spawn", "--continue", "nine", "more"]), /worker ids look like w1/);

    const threadless = (
      await ws.ok(["spawn", "--codex-bin", join(FIXTURES, "count-agent.sh"), "no thread here"])
    ).trim();
    await ws.baton(["wait", threadless]);
    assertOneLine(
      await ws.baton(["spawn", "--continue", threadless, "more"]),
      new RegExp(`worker ${threadless} has no agent thread to continue`),
    );

    // Its thread is in the CODEX_HOME it ran with: from another one, codex would not find it.
    const parent = (await ws.ok(["spawn", "a thread to follow"])).trim();
    assert.equal((await ws.baton(["wait", parent])).code, 0);
    const elsewhere = mkdtempSync(join(tmpdir(), "baton-other-codex-home-"));
    try {
      const ids = await ws.ok(["ls", "--json"]);
      const refused = await ws.baton(["spawn", "--continue", parent, "more"], {
        env: { ...ws.env, CODEX_HOME: elsewhere },
      });
      assertOneLine(
        refused,
        new RegExp(
          `worker ${parent}'s thread \\S+ is not in ${elsewhere}: follow up with the environment ${parent} ran in`,
        ),
      );
      assert.equal(await ws.ok(["ls", "--json"]), ids, "no worker was made");
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }

    const running = (await ws.ok(["spawn", `stay busy\n${modelScriptLine(busy())}`])).trim();
    assertOneLine(
      await ws.baton(["spawn", "--continue", running, "more"]),
      new RegExp(`worker ${running} is still (queued|running): wait for it`),
    );
    await ws.ok(["stop", running, "--grace", "1"]);
  });

  test("send to a running codex exec worker is refused in one line that says why and points at --continue", async () => {
    const id = (await ws.ok(["spawn", `stay busy\n${modelScriptLine(busy())}`])).trim();
    // Running, with its thread started: the model has been asked once.
    for (let i = 0; i < 100 && !ws.model.requests.some((r) => r.userText.includes("stay busy")); i++) {
      await ws.baton(["poll", id, "--wait", "200", "--reader", "probe"]);
    }
    const sent = await ws.baton(["send", id, "hello?"]);
    assertOneLine(
      sent,
      /runs codex headless, which reads its prompt once and then no input: nothing typed reaches it.*baton spawn --continue/,
    );
    assert.match(sent.stderr, new RegExp(`worker ${id} runs codex headless`));
    await ws.ok(["stop", id, "--grace", "1"]);
  });
});

describe("web search", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  /** The web_search tool codex offered the model for the worker whose prompt holds `marker`. */
  async function searchToolFor(args: readonly string[], marker: string) {
    const id = (
      await ws.ok(["spawn", ...args, `${marker}\n${modelScriptLine([{ type: "message", text: "ok" }])}`])
    ).trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const request = ws.model.requests.find((r) => r.userText.includes(marker));
    assert.ok(request, `${marker} reached the model`);
    const tools = (request.body.tools ?? []) as { type?: string; external_web_access?: boolean }[];
    return tools.find((t) => t.type === "web_search");
  }

  test("the research role turns the agent's live web search on; --no-search turns it off", async () => {
    assert.equal((await searchToolFor(["--role", "research"], "research-on"))?.external_web_access, true);
    assert.equal(await searchToolFor(["--role", "research", "--no-search"], "research-off"), undefined);
    assert.equal((await searchToolFor(["--search"], "plain-on"))?.external_web_access, true);
    // Other roles keep codex's own default: its cached index, not the live web.
    assert.notEqual((await searchToolFor(["--role", "scout"], "scout-default"))?.external_web_access, true);
  });

  test("baton run research searches the web, and not with --no-search", async () => {
    const searchOf = (marker: string) =>
      ws.model.requests
        .filter((r) => r.userText.includes(`Main question: ${marker}`))
        .map((r) =>
          ((r.body.tools ?? []) as { type?: string; external_web_access?: boolean }[]).find(
            (t) => t.type === "web_search",
          ),
        );
    // The scripted researchers answer no findings, so the runs fail: what matters is what codex offered.
    await ws.baton(["run", "research", "--retries", "0", "run-with-search"]);
    await ws.baton(["run", "research", "--retries", "0", "--no-search", "run-without-search"]);
    const on = searchOf("run-with-search");
    const off = searchOf("run-without-search");
    assert.ok(on.length > 0 && off.length > 0, "both runs' researchers asked the model");
    for (const tool of on) assert.equal(tool?.external_web_access, true);
    for (const tool of off) assert.equal(tool, undefined);
  });
});
