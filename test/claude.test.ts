import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Baton, type WorkerInfo, type WorkerResult } from "../dist/index.js";
import {
  type DirectiveStep,
  directiveScript,
  type ModelRequest,
  modelScriptLine,
  type ScriptedMessages,
  startScriptedMessages,
} from "../dist/scripted-model/index.js";
import { until, waitForState, workerProcesses } from "./support/faults.ts";
import { CLI, ROOT, Workspace } from "./support/harness.ts";

// Real Claude Code workers (`claude -p`, the pinned devDependency) against a scripted Anthropic
// Messages server on loopback. Each worker's prompt carries its own model script; a `tool` step
// calls any Claude Code tool by name.

const CLAUDE_BIN = join(ROOT, "node_modules/@anthropic-ai/claude-code/bin/claude.exe");

/**
 * A command that runs until it is stopped. Not `sleep 120`: Claude Code refuses a long standalone sleep
 * ("Blocked: standalone sleep 120"), and its Bash tool would end it after 2 minutes anyway.
 */
const LONG = "tail -f /dev/null";

/** A task that runs {@link LONG} on its first attempt and answers on any later one. */
function resumable(name: string): string {
  const answer = { type: "message", text: `${name} finished after resume` } as const;
  return `${name}\n${modelScriptLine([{ type: "attempts", steps: [{ type: "shell", command: LONG }, answer] }, answer])}`;
}

/** A workspace whose workers reach the scripted Messages server (its codex model stays unused). */
async function claudeWorkspace(): Promise<{ ws: Workspace; model: ScriptedMessages }> {
  const ws = await Workspace.create(directiveScript());
  const model = await startScriptedMessages({ script: directiveScript() });
  ws.env = { ...ws.env, ...model.env(), BATON_CLAUDE_BIN: CLAUDE_BIN };
  return { ws, model };
}

const tools = (request: ModelRequest) =>
  ((request.body.tools ?? []) as { name?: string }[]).map((tool) => tool.name ?? "");

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ");
  } catch {
    return "";
  }
};

describe("claude workers", () => {
  let ws: Workspace;
  let model: ScriptedMessages;
  before(async () => {
    ({ ws, model } = await claudeWorkspace());
  });
  after(async () => {
    await ws.cleanup();
    await model.close();
  });

  const spawn = async (args: readonly string[]) =>
    (await ws.ok(["spawn", "--backend", "claude", ...args])).trim();
  const resultOf = async (id: string) =>
    JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
  /** Runs one claude worker whose model plays `steps`, and returns its result (any state). */
  async function run(name: string, steps: DirectiveStep[], flags: string[] = []): Promise<WorkerResult> {
    const id = await spawn([...flags, `${name}\n${modelScriptLine(steps)}`]);
    await ws.baton(["wait", id]);
    return resultOf(id);
  }
  const requestsFor = (name: string) => model.requests.filter((r) => r.userText.includes(`${name}\n`));
  const events = (id: string) =>
    readFileSync(join(ws.home, "workers", id, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; costUsd?: number });
  /** Waits until worker `id` runs a process whose command line starts with `command`. */
  const untilRunning = (id: string, command: string) =>
    until(`${id} runs ${command}`, () =>
      workerProcesses(ws, id).some((pid) => cmdline(pid).startsWith(command)),
    );

  test("four workers run in parallel, each with its own answer, session, config home and cost", async () => {
    const tasks = [0, 1, 2, 3].flatMap((i) => [
      "--task",
      `parallel-${i}\n${modelScriptLine([{ type: "message", text: `answer-${i}` }])}`,
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
      `first task: count the files\n${modelScriptLine([
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
    const result = await run("claude-500", [once, once, once] as DirectiveStep[]);
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
      `claude-stop\n${modelScriptLine([{ type: "shell", command: LONG }])}`,
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
    const id = await spawn([`claude-interrupt\n${modelScriptLine([{ type: "hang" }])}`]);
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

  test("an answer schema goes to --json-schema, and the structured answer is the result", async () => {
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    try {
      const id = await baton.spawn({
        task: `claude-schema\n${modelScriptLine([{ type: "tool", name: "StructuredOutput", input: { verdict: "pass" } }])}`,
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
    const env = { ...ws.env, PATH: "/usr/bin:/bin" };
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
