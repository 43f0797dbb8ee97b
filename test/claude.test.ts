import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Baton, type WorkerInfo, type WorkerResult } from "../dist/index.js";
import type { ScriptedMessages } from "../dist/scripted-model/index.js";
import { type ClaudeStep, ClaudeWorkspace, scriptLine, tools } from "./support/claude.ts";
import { CLI, type Workspace } from "./support/harness.ts";

// Real Claude Code workers against a scripted Messages server: answers, scopes, resume, tools.
// Failures, stops and watchdogs are in claude-failures.test.ts.

describe("claude workers", () => {
  let c: ClaudeWorkspace;
  let ws: Workspace;
  let model: ScriptedMessages;
  before(async () => {
    c = await ClaudeWorkspace.create();
    ({ ws, model } = c);
  });
  after(() => c.cleanup());

  const spawn = (args: readonly string[]) => c.spawn(args);
  const run = (name: string, steps: readonly ClaudeStep[], flags: string[] = []) => c.run(name, steps, flags);
  const requestsFor = (name: string) => c.requestsFor(name);
  const events = (id: string) => c.events(id);

  test("four workers run in parallel, each with its own answer, session, config home and cost", async () => {
    const tasks = [0, 1, 2, 3].flatMap((i) => [
      "--task",
      `parallel-${i}\n${scriptLine([{ type: "message", text: `answer-${i}` }])}`,
    ]);
    const ids = (await ws.ok(["spawn", "--backend", "claude", ...tasks])).trim().split("\n");
    assert.equal(ids.length, 4);
    const waited = await ws.baton(["wait", ...ids]);
    assert.equal(waited.code, 0, waited.stdout + waited.stderr);
    const threads = new Set<string>();
    for (const [i, id] of ids.entries()) {
      assert.equal((await ws.ok(["result", id])).trim(), `answer-${i}`);
      const result = await ws.json<WorkerResult>(["result", id]);
      assert.equal(result.state, "succeeded");
      assert.equal(result.confinement, "baton", "inside Baton's sandbox");
      assert.match(result.threadId ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-/, "the session id Baton chose");
      threads.add(result.threadId ?? "");
      assert.deepEqual(
        [result.usage.inputTokens, result.usage.outputTokens],
        [100, 10],
        "usage from its result line",
      );
      const completed = events(id).find((e) => e.type === "turn_completed");
      assert.ok(
        completed?.costUsd !== undefined && completed.costUsd > 0,
        "Claude Code's total_cost_usd is kept",
      );
      const home = join(ws.home, "agents", "claude", result.threadId ?? "");
      const sessions = readdirSync(join(home, "projects")).flatMap((dir) =>
        readdirSync(join(home, "projects", dir)),
      );
      assert.ok(sessions.includes(`${result.threadId}.jsonl`), "its session lives in its own config home");
    }
    assert.equal(threads.size, 4, "four sessions");
    const asked = model.requests.filter((r) => /parallel-[0-3]\n/.test(r.userText));
    assert.equal(new Set(asked.map((r) => r.sessionId)).size, 4);
    for (const request of asked) {
      assert.ok(threads.has(request.sessionId), "each request came from the session Baton chose");
      for (const name of ["Agent", "Task", "Workflow"])
        assert.ok(!tools(request).includes(name), `no ${name}`);
      assert.ok(!tools(request).some((name) => name.startsWith("mcp__")), "no MCP server");
    }
    assert.deepEqual(model.stray, [], "no traffic but the model's requests");
  });

  test("a writer runs a command and edits a file", async () => {
    const result = await run(
      "claude-writer",
      [
        { type: "shell", command: "echo from-shell > shell.txt && cat shell.txt" },
        {
          type: "tool",
          name: "Write",
          input: { file_path: join(ws.dir, "notes.txt"), content: "written\n" },
        },
        {
          type: "tool",
          name: "Edit",
          input: {
            file_path: join(ws.dir, "notes.txt"),
            old_string: "written",
            new_string: "edited by the worker",
          },
        },
        { type: "message", text: "wrote notes.txt" },
      ],
      ["--role", "implementer"],
    );
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(result.answer, "wrote notes.txt");
    assert.equal(readFileSync(join(ws.dir, "shell.txt"), "utf8"), "from-shell\n");
    assert.equal(readFileSync(join(ws.dir, "notes.txt"), "utf8"), "edited by the worker\n");
    const kinds = events(result.id).map((e) => e.type);
    assert.ok(kinds.includes("command") && kinds.includes("file_change"), kinds.join(" "));
    assert.match(
      await ws.ok(["logs", result.id]),
      /\$ echo from-shell > shell.txt && cat shell.txt\n {2}exit 0/,
    );
    // Claude Code's per-command files went to the worker's TMPDIR (removed), not /tmp/claude-<uid>/.
    const slug = ws.dir.replace(/[^A-Za-z0-9]/g, "-");
    assert.equal(existsSync(join(tmpdir(), `claude-${process.getuid?.()}`, slug)), false);
  });

  test("a reader is refused a write, by Claude Code's tools and by the sandbox", async () => {
    const result = await run(
      "claude-reader",
      [
        { type: "tool", name: "Write", input: { file_path: join(ws.dir, "forbidden.txt"), content: "no" } },
        { type: "shell", command: "echo nope > forbidden-shell.txt" },
        { type: "message", text: "tools said: {{outputs:2}}" },
      ],
      ["--read-only"],
    );
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.match(result.answer, /No such tool available: Write/);
    assert.match(result.answer, /Permission to use Bash has been denied/);
    assert.equal(existsSync(join(ws.dir, "forbidden.txt")), false);
    assert.equal(existsSync(join(ws.dir, "forbidden-shell.txt")), false);
    const offered = tools(requestsFor("claude-reader")[0]!);
    for (const name of ["Write", "Edit", "NotebookEdit"])
      assert.ok(!offered.includes(name), `no ${name}: ${offered}`);
  });

  test("spawn --continue resumes the ended worker's session by its id", async () => {
    const first = await spawn([
      "--role",
      "scout",
      `first task: count the files\n${scriptLine([
        { type: "message", text: "first answer" },
        { type: "message", text: "second answer" },
      ])}`,
    ]);
    assert.equal((await ws.baton(["wait", first])).code, 0);
    const before = await ws.json<WorkerResult>(["result", first]);
    assert.equal(before.answer, "first answer");

    // No --backend: a follow-up runs on its parent's.
    const next = (await ws.ok(["spawn", "--continue", first, "now list them by size"])).trim();
    assert.equal((await ws.baton(["wait", next])).code, 0);
    const followed = await ws.json<WorkerResult>(["result", next]);
    assert.equal(followed.answer, "second answer");
    assert.equal(followed.threadId, before.threadId, "the same session");
    const request = model.requests.find((r) => r.userText.includes("now list them by size"));
    assert.ok(request, "the follow-up reached the model");
    assert.equal(request.sessionId, before.threadId);
    assert.match(request.userText, /first task: count the files/, "with the whole conversation");
    assert.match(JSON.stringify(request.body.messages), /first answer/);
    assert.deepEqual(await ws.json<WorkerResult>(["result", first]), before, "the first result is unchanged");
  });

  test("an answer schema goes to --json-schema, and the structured answer is the result", async () => {
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    try {
      const id = await baton.spawn({
        task: `claude-schema\n${scriptLine([{ type: "tool", name: "StructuredOutput", input: { verdict: "pass" } }])}`,
        backend: "claude",
        outputSchema: { type: "object", properties: { verdict: { type: "string" } }, required: ["verdict"] },
      });
      await baton.wait([id]);
      const result = await baton.result(id);
      assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
      assert.deepEqual(JSON.parse(result.answer), { verdict: "pass" });
      assert.ok(tools(requestsFor("claude-schema")[0]!).includes("StructuredOutput"));
    } finally {
      baton.close();
    }
  });

  test("--search offers Claude Code's web tools; a plain reader gets none", async () => {
    await run("claude-search-on", [{ type: "message", text: "ok" }], ["--read-only", "--search"]);
    await run("claude-search-off", [{ type: "message", text: "ok" }], ["--read-only"]);
    const offered = (name: string) => tools(requestsFor(name)[0]!);
    for (const tool of ["WebSearch", "WebFetch"]) {
      assert.ok(offered("claude-search-on").includes(tool), `${tool} offered with --search`);
      assert.ok(!offered("claude-search-off").includes(tool), `no ${tool} without it`);
    }
  });

  test("a worker cannot spawn workers", async () => {
    const result = await run(
      "claude-nested",
      [
        { type: "shell", command: `${process.execPath} ${CLI} spawn nested-task; echo "exit=$?"` },
        { type: "message", text: "nested said: {{output}}" },
      ],
      ["--role", "implementer"],
    );
    assert.match(result.answer, /workers cannot spawn workers/);
    assert.match(result.answer, /exit=1/);
    const listing = await ws.json<{ workers: WorkerInfo[] }>(["ls"]);
    assert.ok(!listing.workers.some((w) => Number(w.id.slice(1)) > Number(result.id.slice(1))));
  });

  test("a missing claude binary is refused in one line that says how to install it", async () => {
    const env: NodeJS.ProcessEnv = { ...ws.env, PATH: "/usr/bin:/bin" };
    delete env.BATON_CLAUDE_BIN;
    const missing = await ws.baton(["spawn", "--backend", "claude", "task"], { env, cwd: "/" });
    assert.notEqual(missing.code, 0);
    assert.equal(missing.stderr.trim().split("\n").length, 1, missing.stderr);
    assert.match(
      missing.stderr,
      /claude \(Claude Code\) was not found: install it with `npm install -g @anthropic-ai\/claude-code`/,
    );
    const wrong = await ws.baton(["spawn", "--backend", "claude", "--bin", "/nonexistent/claude", "task"]);
    assert.equal(wrong.stderr.trim().split("\n").length, 1, wrong.stderr);
    assert.match(wrong.stderr, /claude binary \/nonexistent\/claude does not exist .*BATON_CLAUDE_BIN/);
  });
});
