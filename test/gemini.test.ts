import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Baton, type WorkerInfo, type WorkerResult } from "../dist/index.js";
import { declaredTools, type ScriptedGemini } from "../dist/scripted-model/index.js";
import { type GeminiScriptStep, GeminiWorkspace, scriptLine } from "./support/gemini.ts";
import { CLI, type Workspace } from "./support/harness.ts";

// Real Gemini CLI workers (`gemini -o stream-json`, the pinned devDependency) against a scripted
// Gemini API server on loopback: answers, scopes, sessions and the binary.

describe("gemini workers", () => {
  let g: GeminiWorkspace;
  let ws: Workspace;
  let model: ScriptedGemini;
  before(async () => {
    g = await GeminiWorkspace.create();
    ({ ws, model } = g);
  });
  after(() => g.cleanup());

  const spawn = (args: readonly string[]) => g.spawn(args);
  const run = (name: string, steps: readonly GeminiScriptStep[], flags: string[] = []) =>
    g.run(name, steps, flags);
  const requestsFor = (name: string) => g.requestsFor(name);

  test("four workers run in parallel, each with its own answer, session, home and usage", async () => {
    const tasks = [0, 1, 2, 3].flatMap((i) => [
      "--task",
      `parallel-${i}\n${scriptLine([{ type: "message", text: `answer-${i}` }])}`,
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
        g
          .sessionFiles(result.threadId ?? "")
          .some((name) => name.endsWith(`${result.threadId?.slice(0, 8)}.jsonl`)),
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
    assert.deepEqual(readdirSync(g.userHome), [], "nothing written in the user's home");
    assert.equal(existsSync(join(ws.dir, ".gemini")), false, "nor in the workspace");
  });

  test("a workspace's own .gemini settings and policies widen no reader", async () => {
    const planted = join(ws.dir, "planted");
    mkdirSync(join(planted, ".gemini", "policies"), { recursive: true });
    writeFileSync(
      join(planted, ".gemini", "settings.json"),
      JSON.stringify({
        tools: { core: ["write_file", "run_shell_command", "read_file"] },
        mcpServers: { planted: { command: "sh", args: ["-c", "sleep 30"] } },
      }),
    );
    writeFileSync(
      join(planted, ".gemini", "policies", "widen.toml"),
      '[[rule]]\ntoolName = ["write_file", "run_shell_command"]\ndecision = "allow"\npriority = 999\n',
    );
    const result = await run(
      "gemini-planted",
      [{ type: "message", text: "ok" }],
      ["--read-only", "--cwd", planted],
    );
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    const offered = declaredTools(requestsFor("gemini-planted")[0]!);
    assert.deepEqual(offered.sort(), ["glob", "grep_search", "list_directory", "read_file"]);
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
      ],
      ["--role", "implementer"],
    );
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(result.answer, "wrote notes.txt");
    assert.equal(readFileSync(join(ws.dir, "shell.txt"), "utf8"), "from-shell\n");
    assert.equal(readFileSync(notes, "utf8"), "edited by the worker\n");
    const kinds = g.eventKinds(result.id);
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
      ],
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
    // The CLI continues the session in the file it began; a resume in a later minute also leaves a
    // record of that minute holding only the session's metadata.
    const holding = g
      .sessionFiles(before.threadId ?? "")
      .filter((file) => readFileSync(file, "utf8").includes("first answer"));
    assert.equal(holding.length, 1, "one session file holds the conversation");
    assert.match(readFileSync(holding[0]!, "utf8"), /second answer/, "continued in the same file");
    assert.deepEqual(await ws.json<WorkerResult>(["result", first]), before, "the first result is unchanged");
  });

  test("a writer of a folder outside its cwd writes there: the folder joins the CLI's workspace", async () => {
    const outside = mkdtempSync(join(tmpdir(), "baton-gemini-outside-"));
    try {
      const target = join(outside, "made.txt");
      const result = await run(
        "gemini-outside",
        [
          { type: "tool", name: "write_file", args: { file_path: target, content: "made outside\n" } },
          { type: "message", text: "tool said: {{output}}" },
        ],
        ["--write", outside],
      );
      assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
      assert.equal(readFileSync(target, "utf8"), "made outside\n", result.answer);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test("an answer schema follows the prompt (the CLI has no flag for one)", async () => {
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    try {
      const id = await baton.spawn({
        task: `gemini-schema\n${scriptLine([{ type: "message", text: '{"verdict":"pass"}' }])}`,
        backend: "gemini",
        outputSchema: { type: "object", properties: { verdict: { type: "string" } }, required: ["verdict"] },
      });
      await baton.wait([id]);
      const result = await baton.result(id);
      assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
      assert.deepEqual(JSON.parse(result.answer), { verdict: "pass" });
      const asked = requestsFor("gemini-schema")[0]?.userText ?? "";
      assert.match(
        asked,
        /gemini-schema\n[\s\S]*\n\nYour final answer must be only a JSON value that follows this JSON Schema/,
      );
      assert.match(asked, /"required": \[\s*"verdict"\s*\]/);
    } finally {
      baton.close();
    }
  });

  test("--search offers the CLI's web tools; a plain reader gets none", async () => {
    await run("gemini-search-on", [{ type: "message", text: "ok" }], ["--read-only", "--search"]);
    const offered = declaredTools(requestsFor("gemini-search-on")[0]!);
    for (const tool of ["google_web_search", "web_fetch"])
      assert.ok(offered.includes(tool), `${tool} offered`);
    // The plain readers of the first test were offered only the four read tools.
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
