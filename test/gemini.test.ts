import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerInfo, WorkerResult } from "../dist/index.js";
import {
  type DirectiveStep,
  declaredTools,
  directiveScript,
  modelScriptLine,
  type ScriptedGemini,
  startScriptedGemini,
} from "../dist/scripted-model/index.js";
import { until, waitForState, workerProcesses } from "./support/faults.ts";
import { CLI, FIXTURES, ROOT, Workspace } from "./support/harness.ts";

// Real Gemini CLI workers (`gemini -o stream-json`, the pinned devDependency) against a scripted
// Gemini API server on loopback. Each worker's prompt carries its own model script; a `tool` step
// calls any Gemini CLI tool by name, and a step's turn is the number of model turns in the history.

const GEMINI_BIN = join(ROOT, "node_modules/@google/gemini-cli/bundle/gemini.js");
/** The CLI as it runs by default: a relauncher that ignores SIGINT and SIGTERM, and its child. */
const RELAUNCHING_BIN = join(FIXTURES, "gemini-relaunching.sh");

/** A workspace whose workers reach the scripted Gemini server (its codex model stays unused). */
async function geminiWorkspace(): Promise<{ ws: Workspace; model: ScriptedGemini; userHome: string }> {
  const ws = await Workspace.create(directiveScript());
  const model = await startScriptedGemini({ script: directiveScript() });
  // A HOME of its own, to see that no worker writes there.
  const userHome = join(ws.dir, "user-home");
  mkdirSync(userHome);
  ws.env = { ...ws.env, ...model.env(), HOME: userHome, BATON_GEMINI_BIN: GEMINI_BIN };
  return { ws, model, userHome };
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ");
  } catch {
    return "";
  }
};

describe("gemini workers", () => {
  let ws: Workspace;
  let model: ScriptedGemini;
  let userHome: string;
  before(async () => {
    ({ ws, model, userHome } = await geminiWorkspace());
  });
  after(async () => {
    await ws.cleanup();
    await model.close();
  });

  const spawn = async (args: readonly string[]) =>
    (await ws.ok(["spawn", "--backend", "gemini", ...args])).trim();
  const resultOf = async (id: string) =>
    JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
  /** Runs one gemini worker whose model plays `steps`, and returns its result (any state). */
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
      .map((line) => JSON.parse(line) as { type: string });
  /** Waits until worker `id` runs a process whose command line starts with `command`. */
  const untilRunning = (id: string, command: string) =>
    until(`${id} runs ${command}`, () =>
      workerProcesses(ws, id).some((pid) => cmdline(pid).startsWith(command)),
    );
  /** The sessions the CLI recorded in thread `threadId`'s own home. */
  const sessionFiles = (threadId: string) => {
    const tmp = join(ws.home, "agents", "gemini", threadId, ".gemini", "tmp");
    return readdirSync(tmp).flatMap((project) => {
      const chats = join(tmp, project, "chats");
      return existsSync(chats) ? readdirSync(chats) : [];
    });
  };

  test("four workers run in parallel, each with its own answer, session, home and usage", async () => {
    const tasks = [0, 1, 2, 3].flatMap((i) => [
      "--task",
      `parallel-${i}\n${modelScriptLine([{ type: "message", text: `answer-${i}` }])}`,
    ]);
    const ids = (await ws.ok(["spawn", "--backend", "gemini", ...tasks])).trim().split("\n");
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
        "usage from its result's stats",
      );
      assert.ok(
        sessionFiles(result.threadId ?? "").some((name) =>
          name.endsWith(`${result.threadId?.slice(0, 8)}.jsonl`),
        ),
        "its session lives in its own home",
      );
    }
    assert.equal(threads.size, 4, "four sessions");
    const asked = model.requests.filter((r) => /parallel-[0-3]\n/.test(r.userText));
    assert.equal(asked.length, 4);
    for (const request of asked) {
      const home = /agents\/gemini\/([0-9a-f-]{36})\//.exec(JSON.stringify(request.body))?.[1];
      assert.ok(home && threads.has(home), "each request came from a session in a home Baton made");
      const offered = declaredTools(request);
      assert.deepEqual(
        offered.sort(),
        ["glob", "grep_search", "list_directory", "read_file"],
        "a reader's tools",
      );
    }
    assert.deepEqual(model.stray, [], "no traffic but the model's requests");
    assert.deepEqual(readdirSync(userHome), [], "nothing written in the user's home");
    assert.equal(existsSync(join(ws.dir, ".gemini")), false, "nor in the workspace");
  });

  test("a writer runs a command and edits a file", async () => {
    const notes = join(ws.dir, "notes.txt");
    const result = await run(
      "gemini-writer",
      [
        { type: "shell", command: "echo from-shell > shell.txt && cat shell.txt" },
        { type: "tool", name: "write_file", args: { file_path: notes, content: "written\n" } },
        {
          type: "tool",
          name: "replace",
          args: {
            file_path: notes,
            instruction: "reword the note",
            old_string: "written",
            new_string: "edited by the worker",
          },
        },
        { type: "message", text: "wrote notes.txt" },
      ] as DirectiveStep[],
      ["--role", "implementer"],
    );
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(result.answer, "wrote notes.txt");
    assert.equal(readFileSync(join(ws.dir, "shell.txt"), "utf8"), "from-shell\n");
    assert.equal(readFileSync(notes, "utf8"), "edited by the worker\n");
    const kinds = events(result.id).map((e) => e.type);
    assert.ok(kinds.includes("command") && kinds.includes("file_change"), kinds.join(" "));
    assert.match(
      await ws.ok(["logs", result.id]),
      /\$ echo from-shell > shell.txt && cat shell.txt\n {2}completed\n/,
    );
    const offered = declaredTools(requestsFor("gemini-writer")[0]!);
    for (const name of ["write_file", "replace", "run_shell_command"])
      assert.ok(offered.includes(name), name);
    for (const name of ["invoke_agent", "google_web_search", "web_fetch", "activate_skill"])
      assert.ok(!offered.includes(name), `no ${name}`);
  });

  test("a reader is refused a write: the CLI has no tool for it", async () => {
    const result = await run(
      "gemini-reader",
      [
        {
          type: "tool",
          name: "write_file",
          args: { file_path: join(ws.dir, "forbidden.txt"), content: "no" },
        },
        { type: "shell", command: "echo nope > forbidden-shell.txt" },
        { type: "message", text: "tools said: {{outputs:2}}" },
      ] as DirectiveStep[],
      ["--read-only"],
    );
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.match(result.answer, /Tool "write_file" not found/);
    assert.match(result.answer, /Tool "run_shell_command" not found/);
    assert.equal(existsSync(join(ws.dir, "forbidden.txt")), false);
    assert.equal(existsSync(join(ws.dir, "forbidden-shell.txt")), false);
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
    assert.deepEqual(
      [followed.usage.inputTokens, followed.usage.outputTokens],
      [100, 10],
      "the follow-up's own usage, not its thread's",
    );
    const request = model.requests.find((r) => r.userText.includes("now list them by size"));
    assert.ok(request, "the follow-up reached the model");
    assert.equal(request.turn, 1, "after the first turn");
    assert.match(request.userText, /first task: count the files/, "with the whole conversation");
    assert.match(JSON.stringify(request.body.contents), /first answer/);
    assert.ok(
      JSON.stringify(request.body).includes(`agents/gemini/${before.threadId}/`),
      "from the thread's own home",
    );
    assert.equal(sessionFiles(before.threadId ?? "").length, 1, "one session, continued");
    assert.deepEqual(await ws.json<WorkerResult>(["result", first]), before, "the first result is unchanged");
  });

  test("a model 500 is a transient failure: Baton runs the worker again and the retry answers", async () => {
    // The CLI tries twice (general.maxAttempts: 2), then Baton retries in a new session.
    const result = await run("gemini-500", [
      {
        type: "attempts",
        steps: [
          { type: "http_error", status: 500 },
          { type: "http_error", status: 500 },
          { type: "message", text: "fine now" },
        ],
      },
    ]);
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(result.answer, "fine now");
    assert.equal(result.retries, 1);
    assert.equal(requestsFor("gemini-500").length, 3, "two requests of the first attempt, one of the retry");
    assert.match(await ws.ok(["logs", result.id]), /\[baton\] retry 1 of 2 after a transient failure: .*500/);
  });

  test("a model 400 is not retried", async () => {
    const result = await run("gemini-400", [{ type: "failed", code: "invalid", message: "bad request" }]);
    assert.equal(result.state, "failed");
    assert.equal(result.retries, 0);
    assert.equal(result.reason?.kind, "exit");
    assert.match(result.reason?.kind === "exit" ? (result.reason.message ?? "") : "", /400|bad request/);
  });

  test("an invalid stream (no finish reason) is transient: Baton runs the worker again", async () => {
    // The CLI tries twice, then reports the stream and exits 0; Baton retries in a new session.
    const result = await run("gemini-invalid", [
      {
        type: "attempts",
        steps: [
          { type: "invalid", text: "cut short" },
          { type: "invalid", text: "cut short" },
          { type: "message", text: "whole at last" },
        ],
      },
    ] as DirectiveStep[]);
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(result.answer, "whole at last");
    assert.equal(result.retries, 1);
    assert.match(
      await ws.ok(["logs", result.id]),
      /\[baton\] retry 1 of 2 after a transient failure: Model stream ended without a finish reason/,
    );
  });

  test("after the CLI retried a broken stream, the answer is the session's, not the stream's two attempts", async () => {
    const result = await run("gemini-broken-once", [
      {
        type: "attempts",
        steps: [
          { type: "invalid", text: "half an answer" },
          { type: "message", text: "the whole answer" },
        ],
      },
    ] as DirectiveStep[]);
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(result.retries, 0, "the CLI's own retry was enough");
    assert.equal(result.answer, "the whole answer");
    assert.equal(result.answerSource, "last-message-file", "from the CLI's record of the session");
    assert.equal(result.answerMismatch, true, "the stream said otherwise");
  });

  test("a model that never answers is ended by Baton's idle watchdog, leaving no process", async () => {
    const result = await run("gemini-hang", [{ type: "hang" }], ["--idle-timeout", "5", "--retries", "0"]);
    assert.equal(result.state, "timed_out");
    assert.deepEqual(result.reason, { kind: "timeout", limit: "idle", seconds: 5 });
    assert.equal(requestsFor("gemini-hang").length, 1, "it was waiting on the model");
    assert.deepEqual(workerProcesses(ws, result.id), []);
  });

  test("a token budget stops a worker in the middle of a command, from the usage the CLI records", async () => {
    const result = await run(
      "gemini-budget",
      [{ type: "shell", command: "sleep 600", usage: { input_tokens: 5000 } }],
      ["--role", "implementer", "--max-tokens", "1000"],
    );
    assert.equal(result.state, "over_budget");
    assert.deepEqual(
      [result.usage.inputTokens, result.usage.outputTokens],
      [5000, 10],
      "counted before the turn ended",
    );
    assert.deepEqual(workerProcesses(ws, result.id), []);
  });

  test("stop ends a worker in the middle of a command, leaving no process, even the CLI's relauncher", async () => {
    const id = await spawn([
      "--role",
      "implementer",
      "--bin",
      RELAUNCHING_BIN,
      `gemini-stop\n${modelScriptLine([{ type: "shell", command: "sleep 600" }])}`,
    ]);
    await untilRunning(id, "sleep 600");
    const clis = workerProcesses(ws, id).filter((pid) =>
      cmdline(pid).includes("gemini-cli/bundle/gemini.js"),
    );
    assert.equal(clis.length, 2, "the relauncher and its child");
    const stopped = await ws.json<{ stopped: string[] }>(["stop", id, "--grace", "1"]);
    assert.deepEqual(stopped.stopped, [id]);
    const result = await resultOf(id);
    assert.equal(result.state, "canceled");
    assert.deepEqual(result.reason, { kind: "stopped", by: "user", via: "stop" });
    assert.deepEqual(workerProcesses(ws, id), [], "not the command, nor the relauncher's child");
  });

  test("interrupt while the model thinks: the CLI ends without a result, and the worker is canceled", async () => {
    const id = await spawn([`gemini-interrupt\n${modelScriptLine([{ type: "hang" }])}`]);
    await waitForState(ws, id, "running");
    await until("the model is asked", () => requestsFor("gemini-interrupt").length > 0);
    await ws.ok(["interrupt", id]);
    assert.equal((await ws.baton(["wait", id, "--timeout", "30"])).code, 1);
    const result = await resultOf(id);
    assert.equal(result.state, "canceled");
    assert.deepEqual(result.reason, { kind: "stopped", by: "user", via: "interrupt" });
    assert.deepEqual(workerProcesses(ws, id), []);
  });

  test("a worker cannot spawn workers", async () => {
    const result = await run(
      "gemini-nested",
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

  test("a missing gemini binary is refused in one line that says how to install it", async () => {
    const env = { ...ws.env, PATH: "/usr/bin:/bin" };
    delete env.BATON_GEMINI_BIN;
    const missing = await ws.baton(["spawn", "--backend", "gemini", "task"], { env, cwd: "/" });
    assert.notEqual(missing.code, 0);
    assert.equal(missing.stderr.trim().split("\n").length, 1, missing.stderr);
    assert.match(
      missing.stderr,
      /gemini \(Gemini CLI\) was not found: install it with `npm install -g @google\/gemini-cli`/,
    );
    const wrong = await ws.baton(["spawn", "--backend", "gemini", "--bin", "/nonexistent/gemini", "task"]);
    assert.equal(wrong.stderr.trim().split("\n").length, 1, wrong.stderr);
    assert.match(wrong.stderr, /gemini binary \/nonexistent\/gemini does not exist .*BATON_GEMINI_BIN/);
  });
});
