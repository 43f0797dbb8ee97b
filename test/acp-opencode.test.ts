import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerInfo } from "../dist/index.js";
import { offeredFunctions } from "../dist/scripted-model/index.js";
import { workerProcesses } from "./support/faults.ts";
import { CLI, resumableTask, type Workspace } from "./support/harness.ts";
import { MODEL_500, type OpencodeStep, OpencodeWorkspace, scriptLine } from "./support/opencode.ts";

// Baton as an Agent Client Protocol client of the real opencode (`opencode acp`, the pinned
// devDependency) through `--backend acp:opencode`, offline: its one provider is the scripted Chat
// Completions server on loopback. One workspace and one server serve every test (opencode costs about
// 5 s of CPU and 500 MB a worker); each waits on Baton's own commands and events.

describe("acp:opencode workers (opencode acp)", () => {
  let o: OpencodeWorkspace;
  let ws: Workspace;
  before(async () => {
    o = await OpencodeWorkspace.create();
    ({ ws } = o);
  });
  after(() => o.cleanup());

  // An agent that never answers ends within a minute, never hangs the suite.
  const BOUND = ["--idle-timeout", "60"];
  const run = (name: string, steps: readonly OpencodeStep[], flags: string[] = []) =>
    o.run(name, steps, [...BOUND, ...flags]);
  const ls = async () => (await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers;

  /** Polls worker `id` (each poll returns once its transcript grows) until it matches `pattern`. */
  async function untilTranscript(id: string, pattern: RegExp): Promise<void> {
    let seen = "";
    for (let i = 0; i < 120 && !pattern.test(seen); i++) {
      seen += await ws.ok(["poll", id, "--raw", "--wait", "1000", "--reader", "test"]);
    }
    assert.match(seen, pattern);
  }

  test("four workers run in parallel, each with its own answer, session, home and usage, offline", async () => {
    const tasks = [0, 1, 2, 3].flatMap((i) => [
      "--task",
      `oc-parallel-${i}\n${scriptLine([{ type: "message", text: `opencode answer ${i}` }])}`,
    ]);
    const ids = (await ws.ok(["spawn", "--backend", "acp:opencode", ...BOUND, ...tasks])).trim().split("\n");
    const waited = await ws.baton(["wait", ...ids]);
    assert.equal(waited.code, 0, waited.stdout + waited.stderr);
    const homes = new Set<string>();
    for (const [i, id] of ids.entries()) {
      const result = await o.resultOf(id);
      assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
      assert.equal(result.answer, `opencode answer ${i}`);
      assert.equal((await ws.ok(["result", id])).trim(), `opencode answer ${i}`);
      assert.equal(result.confinement, "baton", "inside Baton's sandbox");
      assert.match(result.threadId ?? "", /^ses_[0-9A-Za-z]+$/, "the session id opencode chose");
      assert.deepEqual([result.usage.inputTokens, result.usage.outputTokens], [100, 10]);
      assert.equal(result.model, "scripted/scripted-model", "the model its session reports");
      const home = readFileSync(
        join(ws.home, "agents", "acp:opencode", "sessions", result.threadId ?? ""),
        "utf8",
      ).trim();
      homes.add(home);
      const data = join(ws.home, "agents", "acp:opencode", "homes", home, "data", "opencode");
      assert.ok(existsSync(join(data, "opencode.db")), "its sessions in its own home");
      assert.equal(
        existsSync(join(ws.home, "workers", id, "tmp")),
        false,
        "its TMPDIR (and opencode's .so) gone",
      );
      assert.match(await ws.ok(["logs", id]), new RegExp(`final answer:\\n  opencode answer ${i}\\n`));
    }
    assert.equal(homes.size, 4, "four homes");
    const asked = ids.map((_, i) => o.requestsFor(`oc-parallel-${i}`));
    assert.ok(asked.every((requests) => requests.length === 1));
    assert.equal(new Set(asked.map((requests) => requests[0]?.sessionId)).size, 4, "four sessions");
    const offered = offeredFunctions(asked[0]![0]!);
    for (const name of ["read", "glob", "grep"]) assert.ok(offered.includes(name), `${name} is offered`);
    for (const name of ["edit", "write", "bash", "task", "skill", "webfetch", "websearch", "question"])
      assert.ok(!offered.includes(name), `a reader (the default) is offered no ${name}`);
    const titled = asked.map((requests) => requests[0]?.sessionId);
    assert.ok(
      titled.every((session) => o.model.titles.includes(session ?? "")),
      "each title asked, answered",
    );
    assert.deepEqual(o.model.stray, [], "no traffic but the model's requests");
    assert.deepEqual(
      readdirSync(o.userHome),
      [],
      "nothing written in the user's home (no npm install either)",
    );
    const listed = await ls();
    assert.deepEqual(
      listed.filter((w) => ids.includes(w.id)).map((w) => w.backend),
      ["acp:opencode", "acp:opencode", "acp:opencode", "acp:opencode"],
    );
  });

  test("a writer edits its file and runs a command; a write outside its scope is refused", async () => {
    const notes = join(ws.dir, "notes.txt");
    writeFileSync(notes, "first draft\n");
    const outside = join(ws.dir, "outside.txt");
    const result = await run(
      "oc-writer",
      [
        {
          type: "tool",
          name: "edit",
          args: { filePath: notes, oldString: "first draft", newString: "edited" },
        },
        { type: "tool", name: "write", args: { filePath: outside, content: "no" } },
        { type: "shell", command: `cat ${notes}; echo shell-ok` },
        { type: "message", text: "done: {{outputs:3}}" },
      ],
      ["--write", notes],
    );
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(readFileSync(notes, "utf8"), "edited\n");
    assert.equal(existsSync(outside), false, "outside its scope: refused");
    assert.match(result.answer, /The user rejected permission to use this specific tool call/);
    assert.match(result.answer, /edited\nshell-ok/, "its command ran and saw the edit");
    const logs = await ws.ok(["logs", result.id]);
    assert.match(logs, /tool permission\.edit .*notes\.txt: allowed/);
    assert.match(logs, new RegExp(`changed: ${notes}`));
    assert.match(logs, /outside\.txt is outside the worker's scope/);
    assert.match(logs, /\$ cat .*notes\.txt; echo shell-ok\n {2}exit 0\n/, "its exit code, from opencode");
    assert.doesNotMatch(
      logs,
      /^error:/m,
      "its call of fs/write_text_file, which Baton does not offer, is no error",
    );
    const offered = offeredFunctions(o.requestsFor("oc-writer")[0]!);
    for (const name of ["edit", "write", "bash"])
      assert.ok(offered.includes(name), `${name} is offered: Baton answers its permission request`);
    for (const name of ["task", "skill", "webfetch"]) assert.ok(!offered.includes(name), `no ${name}`);
  });

  test("a reader is never offered a tool that writes, and its write reaches no file", async () => {
    const forbidden = join(ws.dir, "forbidden.txt");
    const result = await run(
      "oc-reader",
      [
        { type: "tool", name: "write", args: { filePath: forbidden, content: "no" } },
        { type: "shell", command: "echo nope > forbidden-shell.txt" },
        { type: "tool", name: "read", args: { filePath: join(ws.dir, "notes.txt") } },
        { type: "message", text: "tools said: {{outputs:3}}" },
      ],
      ["--read-only"],
    );
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.match(result.answer, /unavailable tool 'write'/);
    assert.match(result.answer, /unavailable tool 'bash'/);
    assert.match(result.answer, /1: edited/, "reading is open to it");
    assert.equal(existsSync(forbidden), false);
    assert.equal(existsSync(join(ws.dir, "forbidden-shell.txt")), false);
    const offered = offeredFunctions(o.requestsFor("oc-reader")[0]!);
    for (const name of ["write", "edit", "bash", "task"]) assert.ok(!offered.includes(name), `no ${name}`);
  });

  test("spawn --continue resumes the ended worker's session by its id, with its conversation", async () => {
    const first = await run("oc-first task: count the files", [
      { type: "message", text: "first answer" },
      { type: "message", text: "second answer" },
    ]);
    assert.equal(first.answer, "first answer");
    // No --backend: a follow-up runs on its parent's.
    const next = (await ws.ok(["spawn", "--continue", first.id, ...BOUND, "now list them by size"])).trim();
    assert.equal((await ws.baton(["wait", next])).code, 0);
    const followed = await o.resultOf(next);
    assert.equal(followed.state, "succeeded", JSON.stringify(followed.reason));
    assert.equal(followed.answer, "second answer");
    assert.equal(followed.threadId, first.threadId, "the same session");
    assert.match(o.transcript(next), /"method":"session\/load"/);
    const request = o.model.requests.find((r) => r.userText.includes("now list them by size"));
    assert.ok(request, "the follow-up reached the model");
    assert.equal(request.sessionId, first.threadId);
    assert.match(request.userText, /oc-first task: count the files/, "with the whole conversation");
    assert.match(JSON.stringify(request.body.messages), /first answer/);
    assert.equal(request.turn, 1);
  });

  test("a lost worker's baton resume continues the same session", async () => {
    const id = await o.spawn([...BOUND, "--role", "implementer", resumableTask("oc-long")]);
    await o.untilRunning(id, "sleep 120");
    const threadId = (await ls()).find((w) => w.id === id)?.threadId;
    assert.ok(threadId, "its session id is recorded");
    const supervisor = ws.supervisorPid();
    assert.ok(supervisor);
    process.kill(supervisor, "SIGKILL");
    assert.equal((await ls()).find((w) => w.id === id)?.state, "lost");
    assert.deepEqual(workerProcesses(ws, id), [], "nothing of it is left running");

    const resumed = await ws.json<{ resumed: { id: string; how: string; threadId?: string }[] }>([
      "resume",
      id,
    ]);
    assert.deepEqual(resumed.resumed, [{ id, how: "thread", threadId }]);
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const result = await o.resultOf(id);
    assert.equal(result.answer, "oc-long finished after resume");
    assert.equal(result.threadId, threadId);
    assert.equal(result.resumes, 1);
    const request = o.requestsFor("oc-long").at(-1);
    assert.equal(request?.sessionId, threadId, "in its own session");
    assert.match(request?.userText ?? "", /previous session was cut off/);
    assert.match(request?.userText ?? "", /oc-long\n/, "with its own history");
  });

  test("a model 500 fails the turn with opencode's error, and Baton runs it again", async () => {
    // opencode tries 6 times (honouring retry-after-ms); Baton's retry meets the answer.
    const fails = Array.from({ length: 6 }, () => MODEL_500);
    const result = await run(
      "oc-500",
      [{ type: "attempts", steps: [...fails, { type: "message", text: "second try" }] }],
      ["--retries", "1"],
    );
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(result.answer, "second try");
    assert.equal(result.retries, 1);
    assert.equal(o.requestsFor("oc-500").length, 7);
    assert.match(
      o.transcript(result.id),
      /"error":\{"code":-32603,"message":"Internal error: scripted HTTP 500"/,
    );
  });

  test("a model that never answers is ended by Baton's idle watchdog, with no process left", async () => {
    const id = await o.spawn([
      "--idle-timeout",
      "10",
      "--retries",
      "0",
      `oc-hang\n${scriptLine([{ type: "hang" }])}`,
    ]);
    assert.equal((await ws.baton(["wait", id, "--timeout", "90"])).code, 1);
    const result = await o.resultOf(id);
    assert.equal(result.state, "timed_out");
    assert.deepEqual(result.reason, { kind: "timeout", limit: "idle", seconds: 10 });
    assert.match(o.transcript(id), /"method":"session\/cancel"/, "Baton cancelled the turn first");
    assert.deepEqual(workerProcesses(ws, id), []);
  });

  test("stop cancels the turn and leaves no process, its command's included", async () => {
    const id = await o.spawn([
      ...BOUND,
      "--role",
      "implementer",
      `oc-stop\n${scriptLine([
        { type: "shell", command: "sleep 600" },
        { type: "message", text: "never" },
      ])}`,
    ]);
    await o.untilRunning(id, "sleep 600");
    const stopped = await ws.baton(["stop", id]);
    assert.equal(stopped.code, 0, stopped.stderr);
    const result = await o.resultOf(id);
    assert.equal(result.state, "canceled");
    assert.deepEqual(result.reason, { kind: "stopped", by: "user", via: "stop" });
    assert.match(o.transcript(id), /"method":"session\/cancel"/);
    assert.deepEqual(workerProcesses(ws, id), [], "nothing of it is left running");
  });

  test("interrupt while the model thinks cancels the turn; the worker is canceled", async () => {
    const id = await o.spawn([...BOUND, `oc-interrupt\n${scriptLine([{ type: "hang" }])}`]);
    await untilTranscript(id, /"method":"session\/prompt"/);
    await ws.ok(["interrupt", id]);
    assert.equal((await ws.baton(["wait", id, "--timeout", "30"])).code, 1);
    const result = await o.resultOf(id);
    assert.equal(result.state, "canceled");
    assert.deepEqual(result.reason, { kind: "stopped", by: "user", via: "interrupt" });
    assert.match(o.transcript(id), /"stopReason":"cancelled"/, "opencode ended its turn as cancelled");
    assert.deepEqual(workerProcesses(ws, id), []);
  });

  test("a nested spawn inside an opencode worker is refused", async () => {
    const result = await run(
      "oc-nested",
      [
        { type: "shell", command: `${process.execPath} ${CLI} spawn nested-task; echo "exit=$?"` },
        { type: "message", text: "nested said: {{output}}" },
      ],
      ["--role", "implementer"],
    );
    assert.match(result.answer, /workers cannot spawn workers/);
    assert.match(result.answer, /exit=1/);
    const listing = await ls();
    assert.ok(!listing.some((w) => Number(w.id.slice(1)) > Number(result.id.slice(1))));
  });
});
