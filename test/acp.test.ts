import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { decide, optionFor } from "../dist/backend/acp-permission.js";
import type { WorkerInfo, WorkerResult } from "../dist/index.js";
import { declaredTools, type ScriptedGemini } from "../dist/scripted-model/index.js";
import { type GeminiScriptStep, GeminiWorkspace, scriptLine } from "./support/gemini.ts";
import { CLI, type Workspace } from "./support/harness.ts";

// Baton as an Agent Client Protocol client, against a real ACP agent that runs offline: `gemini --acp`
// (the pinned Gemini CLI) pointed at the scripted Gemini API server, through `--backend acp:gemini`.
// What fails or is stopped is in acp-failures.test.ts.

describe("permission requests answered from the worker's scope", () => {
  const dir = mkdtempSync(join(tmpdir(), "baton-acp-scope-"));
  const src = join(dir, "src");
  mkdirSync(src);
  symlinkSync("/etc", join(src, "etc-link"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const reader = { cwd: dir, writer: false, writePaths: [], search: false };
  const writer = { cwd: dir, writer: true, writePaths: [src], search: false };
  const call = (kind: string, ...paths: string[]) => ({
    toolCallId: "t1",
    kind,
    title: kind,
    locations: paths.map((path) => ({ path })),
  });

  test("a reader may look, never change or run", () => {
    for (const kind of ["read", "search", "think"])
      assert.equal(decide(call(kind), reader).allowed, true, kind);
    for (const kind of ["edit", "delete", "move", "execute", "switch_mode", "other"])
      assert.equal(decide(call(kind, join(src, "a.ts")), reader).allowed, false, kind);
    assert.deepEqual(decide(call("fetch"), reader), {
      allowed: false,
      why: "the web is off for this worker (--search turns it on)",
    });
    assert.equal(decide(call("fetch"), { ...reader, search: true }).allowed, true);
  });

  test("a writer changes files inside its scope only, links resolved, and runs commands", () => {
    assert.equal(decide(call("edit", join(src, "a.ts")), writer).allowed, true);
    assert.equal(decide(call("edit", "src/new/b.ts"), writer).allowed, true, "relative to its cwd");
    assert.equal(decide(call("move", join(src, "a.ts"), join(dir, "a.ts")), writer).allowed, false);
    assert.equal(decide(call("edit", join(src, "..", "x.ts")), writer).allowed, false);
    assert.match(
      decide(call("edit", join(src, "etc-link", "passwd")), writer).why,
      /\/etc\/passwd is outside/,
    );
    assert.equal(decide(call("execute"), writer).allowed, true);
    assert.equal(decide(call("other"), writer).allowed, false);
  });

  test("the option picked answers this call only", () => {
    const options = [
      { optionId: "always", kind: "allow_always" },
      { optionId: "once", kind: "allow_once" },
      { optionId: "no", kind: "reject_once" },
    ];
    assert.equal(optionFor(options, true), "once");
    assert.equal(optionFor(options, false), "no");
    assert.equal(optionFor([{ optionId: "always", kind: "allow_always" }], false), undefined);
  });
});

describe("acp workers (gemini --acp)", () => {
  let g: GeminiWorkspace;
  let ws: Workspace;
  let model: ScriptedGemini;
  before(async () => {
    g = await GeminiWorkspace.create();
    ({ ws, model } = g);
  });
  after(() => g.cleanup());

  // An agent that never answers ends within minutes, never hangs the suite (it starts in 1-2 s here).
  const BOUND = ["--idle-timeout", "60"];
  const spawn = async (args: readonly string[]) =>
    (await ws.ok(["spawn", "--backend", "acp:gemini", ...BOUND, ...args])).trim();
  const resultOf = async (id: string) =>
    JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
  const run = async (name: string, steps: readonly GeminiScriptStep[], flags: string[] = []) => {
    const id = await spawn([...flags, `${name}\n${scriptLine(steps)}`]);
    await ws.baton(["wait", id]);
    return resultOf(id);
  };
  const transcript = (id: string) => readFileSync(join(ws.home, "workers", id, "transcript.log"), "utf8");

  test("four workers run in parallel, each with its own answer, session, home and usage", async () => {
    const tasks = [0, 1, 2, 3].flatMap((i) => [
      "--task",
      `acp-parallel-${i}\n${scriptLine([{ type: "message", text: `acp answer ${i}` }])}`,
    ]);
    const ids = (await ws.ok(["spawn", "--backend", "acp:gemini", ...BOUND, ...tasks])).trim().split("\n");
    const waited = await ws.baton(["wait", ...ids]);
    assert.equal(waited.code, 0, waited.stdout + waited.stderr);
    const threads = new Set<string>();
    for (const [i, id] of ids.entries()) {
      const result = await resultOf(id);
      assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
      assert.equal(result.answer, `acp answer ${i}`);
      assert.equal((await ws.ok(["result", id])).trim(), `acp answer ${i}`);
      assert.equal(result.confinement, "baton", "inside Baton's sandbox");
      assert.match(result.threadId ?? "", /^[0-9a-f]{8}-/, "the session id the agent chose");
      threads.add(result.threadId ?? "");
      assert.deepEqual(
        [result.usage.inputTokens, result.usage.outputTokens],
        [100, 10],
        "usage from the prompt's response",
      );
      assert.equal(result.model, "gemini-2.5-pro", "the model its session reports");
      const home = readFileSync(
        join(ws.home, "agents", "acp:gemini", "sessions", result.threadId ?? ""),
        "utf8",
      );
      assert.ok(existsSync(join(ws.home, "agents", "acp:gemini", "homes", home.trim())), "its own home");
      const lines = transcript(id).trim().split("\n");
      assert.ok(
        lines
          .filter((line) => line.startsWith("{"))
          .every((line) => /^\{"from":"(agent|baton)","message":/.test(line)),
        "every ACP message is a JSON line of its transcript",
      );
      assert.match(await ws.ok(["logs", id]), new RegExp(`final answer:\\n  acp answer ${i}\\n`));
    }
    assert.equal(threads.size, 4, "four sessions");
    const asked = model.requests.filter((r) => /acp-parallel-[0-3]\n/.test(r.userText));
    assert.equal(asked.length, 4);
    const offered = declaredTools(asked[0]!);
    for (const name of ["read_file", "write_file", "replace", "run_shell_command"])
      assert.ok(offered.includes(name), `${name} is offered: Baton answers its permission request`);
    for (const name of [
      "invoke_agent",
      "activate_skill",
      "enter_plan_mode",
      "google_web_search",
      "web_fetch",
    ])
      assert.ok(!offered.includes(name), `no ${name}`);
    const listed = await ws.json<{ workers: WorkerInfo[] }>(["ls"]);
    assert.deepEqual(
      listed.workers.filter((w) => ids.includes(w.id)).map((w) => w.backend),
      ["acp:gemini", "acp:gemini", "acp:gemini", "acp:gemini"],
    );
    assert.deepEqual(model.stray, [], "no traffic but the model's requests");
    assert.deepEqual(readdirSync(g.userHome), [], "nothing written in the user's home");
  });

  test("a reader's write is refused at its permission request, and the file is never written", async () => {
    const forbidden = join(ws.dir, "forbidden.txt");
    const result = await run(
      "acp-reader",
      [
        { type: "tool", name: "write_file", args: { file_path: forbidden, content: "no" } },
        { type: "shell", command: "echo nope > forbidden-shell.txt" },
        { type: "message", text: "tools said: {{outputs:2}}" },
      ],
      ["--read-only"],
    );
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.match(result.answer, /Tool "write_file" was canceled by the user/);
    assert.match(result.answer, /Tool "run_shell_command" was canceled by the user/);
    assert.equal(existsSync(forbidden), false);
    assert.equal(existsSync(join(ws.dir, "forbidden-shell.txt")), false);
    const logs = await ws.ok(["logs", result.id]);
    assert.match(
      logs,
      /tool permission\.edit Writing to forbidden\.txt: refused \(a reader changes no file\)/,
    );
    assert.match(
      logs,
      /tool permission\.execute echo nope > forbidden-shell\.txt: refused \(a reader runs no command\)/,
    );
  });

  test("a writer edits its file and runs a command; a write outside its scope is refused", async () => {
    const notes = join(ws.dir, "notes.txt");
    writeFileSync(notes, "first draft\n");
    const outside = join(ws.dir, "outside.txt");
    const result = await run(
      "acp-writer",
      [
        {
          type: "tool",
          name: "replace",
          args: { file_path: notes, instruction: "reword", old_string: "first draft", new_string: "edited" },
        },
        { type: "tool", name: "write_file", args: { file_path: outside, content: "no" } },
        { type: "shell", command: `cat ${notes}` },
        { type: "message", text: "done: {{outputs:3}}" },
      ],
      ["--write", notes],
    );
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(readFileSync(notes, "utf8"), "edited\n");
    assert.equal(existsSync(outside), false, "outside its scope: refused");
    assert.match(result.answer, /Tool "write_file" was canceled by the user/);
    assert.match(result.answer, /Output: edited/, "its command ran");
    const logs = await ws.ok(["logs", result.id]);
    assert.match(logs, /tool permission\.edit .*notes\.txt.*: allowed/);
    assert.match(logs, new RegExp(`changed: ${notes}`));
    assert.match(logs, /outside\.txt is outside the worker's scope/);
    assert.match(logs, new RegExp(`\\$ cat ${notes}\\n  completed`));
  });

  test("a follow-up of an acp:gemini worker is refused: the CLI cannot load its ACP sessions", async () => {
    const first = await spawn([
      `acp first task\n${scriptLine([{ type: "message", text: "first acp answer" }])}`,
    ]);
    assert.equal((await ws.baton(["wait", first])).code, 0);
    const next = await ws.baton(["spawn", "--continue", first, "acp follow-up question"]);
    assert.notEqual(next.code, 0);
    assert.match(next.stderr, /no agent thread to continue/);
    assert.equal(next.stderr.trim().split("\n").length, 1);
  });

  test("any ACP agent by its command line (--agent-cmd)", async () => {
    const home = join(ws.dir, "gemini-home");
    const { prepareHome } = await import("../dist/backend/gemini-home.js");
    const { geminiPolicy } = await import("../dist/backend/acp-presets.js");
    prepareHome(ws.dir, home, geminiPolicy(false));
    const bin = join(process.cwd(), "node_modules/@google/gemini-cli/bundle/gemini.js");
    const env = { ...ws.env, GEMINI_CLI_HOME: home, GEMINI_CLI_NO_RELAUNCH: "true" };
    const spawned = await ws.baton(
      [
        "spawn",
        ...BOUND,
        "--unconfined", // its home is the caller's business: Baton's sandbox would keep it read-only
        "--agent-cmd",
        `${process.execPath} ${bin} --acp -m 'scripted-model'`,
        `acp-generic\n${scriptLine([{ type: "message", text: "generic answer" }])}`,
      ],
      { env },
    );
    assert.equal(spawned.code, 0, spawned.stderr);
    const id = spawned.stdout.trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const result = await resultOf(id);
    assert.equal(result.answer, "generic answer");
    assert.ok(model.requests.some((r) => r.userText.includes("acp-generic\n")));
    const spec = JSON.parse(readFileSync(join(ws.home, "workers", id, "spec.json"), "utf8"));
    assert.equal(spec.backend, "acp");
    assert.deepEqual(spec.agentArgs, [bin, "--acp", "-m", "scripted-model"]);
  });

  test("a nested spawn inside an ACP worker is refused", async () => {
    const result = await run(
      "acp-nested",
      [
        { type: "shell", command: `${process.execPath} ${CLI} spawn nested-task; echo "exit=$?"` },
        { type: "message", text: "nested said: {{output}}" },
      ],
      ["--role", "implementer"],
    );
    assert.match(result.answer, /workers cannot spawn workers/);
    assert.match(result.answer, /exit=1/);
  });
});
