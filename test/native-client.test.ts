import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pty from "@lydell/node-pty";
import type { WorkerInfo, WorkerResult } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { ROOT, type RunResult, Workspace } from "./support/harness.ts";

// dist/cli/baton, the bin, is the native client (native/baton.c): it runs spawn, wait, result, poll and
// ls inside the workspace's supervisor (src/cli/relay.ts) and hands every other command line to
// `node dist/cli/main.js`. Real codex workers against the scripted model. Each quick command must print
// exactly what Node's CLI prints, and start no Node: the client runs with a `node` first on PATH that
// only leaves a mark, so a command that reached Node shows.

const NATIVE = join(ROOT, "dist/cli/baton");

/** A task whose worker answers `answer`. */
const asking = (name: string, answer: string) =>
  `${name}\n${modelScriptLine([{ type: "message", text: answer }])}`;

function runNative(
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(NATIVE, [...args], { ...options, encoding: "utf8" }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end();
  });
}

describe("the native client", () => {
  let ws: Workspace;
  let other: Workspace;
  let fake: string;
  let marks: string;
  /** ws's environment with the marking `node` first on PATH. */
  let noNode: NodeJS.ProcessEnv;
  const native = (args: readonly string[], env = noNode, cwd = ws.dir) => runNative(args, { env, cwd });
  const nodeRan = () => (existsSync(marks) ? readFileSync(marks, "utf8") : "");

  before(async () => {
    ws = await Workspace.create(directiveScript(() => ({ type: "message", text: "unscripted" })));
    other = await Workspace.create(directiveScript(() => ({ type: "message", text: "the other model" })));
    fake = mkdtempSync(join(tmpdir(), "baton-fake-node-"));
    marks = join(fake, "ran");
    writeFileSync(join(fake, "node"), `#!/bin/sh\necho "node $*" >> '${marks}'\nexit 99\n`, { mode: 0o755 });
    noNode = { ...ws.env, PATH: `${fake}:${process.env.PATH}` };
    await ws.ok(["ls"]); // the supervisor starts
  });
  after(async () => {
    await ws.cleanup();
    await other.cleanup();
    rmSync(fake, { recursive: true, force: true });
  });

  test("is what `npm run build` made of native/baton.c", () => {
    assert.deepEqual([...readFileSync(NATIVE).subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], "an ELF executable");
  });

  test("runs spawn, wait, result, poll and ls in the supervisor, printing what Node's CLI prints", async () => {
    const spawned = await native([
      "spawn",
      "--task",
      asking("one", "answer-one"),
      "--task",
      asking("two", "answer-two"),
    ]);
    assert.equal(spawned.code, 0, spawned.stderr);
    const ids = spawned.stdout.trim().split("\n");
    assert.equal(ids.length, 2, spawned.stdout);
    const [a, b] = ids as [string, string];
    // Piped, wait prints each worker's line as it ends: in the order they ended, while Node's CLI,
    // run after, finds both ended and prints them in id order.
    const waited = await native(["wait", a, b]);
    const after = await ws.baton(["wait", a, b]);
    const lines = (text: string) => text.split("\n").sort();
    assert.deepEqual(
      { ...waited, stdout: lines(waited.stdout) },
      { ...after, stdout: lines(after.stdout) },
      "wait",
    );
    assert.equal(waited.code, 0);
    assert.equal((await native(["result", a])).stdout, "answer-one\n");
    const same = [
      ["result", a],
      ["result", a, b],
      ["result", "--all"],
      ["result", b, "--json"],
      ["result", "w999"],
      ["wait", a, "--json"],
      ["ls"],
      ["ls", "--json"],
    ];
    for (const line of same) assert.deepEqual(await native(line), await ws.baton(line), line.join(" "));
    for (const flags of [[], ["--raw"], ["--json"]]) {
      const mine = await native(["poll", a, ...flags, "--reader", `native${flags.join("")}`]);
      const node = await ws.baton(["poll", a, ...flags, "--reader", `node${flags.join("")}`]);
      assert.deepEqual(mine, node, `poll ${flags.join(" ")}`);
      assert.match(mine.stdout, /answer-one/);
    }
    assert.equal(nodeRan(), "", "no command went to Node");
  });

  test("a spawn takes the caller's folder and environment", async () => {
    mkdirSync(join(ws.dir, "sub"), { recursive: true });
    mkdirSync(join(ws.dir, "elsewhere"), { recursive: true });
    // The other workspace's CODEX_HOME points codex at the other scripted model.
    const env = { ...noNode, CODEX_HOME: other.codexHome };
    const spawned = await native(
      ["spawn", "--cwd", "../elsewhere", "--wait", "--json", "which model?"],
      env,
      join(ws.dir, "sub"),
    );
    assert.equal(spawned.code, 0, spawned.stderr);
    const result = JSON.parse(spawned.stdout) as WorkerResult;
    assert.equal(result.answer, "the other model");
    const spec = JSON.parse(readFileSync(join(ws.home, "workers", result.id, "spec.json"), "utf8"));
    assert.equal(spec.cwd, join(ws.dir, "elsewhere"), "--cwd is taken from the caller's folder");
    assert.equal(nodeRan(), "");
  });

  test("a spawn with a context pack and limits starts the worker Node's CLI starts", async () => {
    mkdirSync(join(ws.dir, "sub", "src"), { recursive: true });
    const line = (task: string) => [
      "spawn",
      "--role",
      "reviewer",
      "--lens",
      "security",
      "--goal",
      "parseRange handles open ranges",
      "--constraint",
      "keep the public API",
      "--pointer",
      "src",
      "--success",
      "npm test passes",
      "--max-tokens",
      "100000",
      "--retries",
      "0",
      task,
    ];
    const sub = join(ws.dir, "sub");
    const mine = await native(line(asking("packed", "packed")), noNode, sub);
    const node = await ws.baton(line(asking("packed", "packed")), { cwd: sub });
    assert.equal(mine.code, 0, mine.stderr);
    assert.equal(node.code, 0, node.stderr);
    const [a, b] = [mine.stdout.trim(), node.stdout.trim()];
    const read = (id: string, file: string) => readFileSync(join(ws.home, "workers", id, file), "utf8");
    assert.equal(read(a, "prompt.txt"), read(b, "prompt.txt"), "the same prompt, context pack and all");
    assert.match(read(a, "prompt.txt"), /parseRange handles open ranges/);
    const spec = (id: string) => {
      const { id: _, createdAt: __, ...rest } = JSON.parse(read(id, "spec.json"));
      return rest;
    };
    assert.deepEqual(spec(a), spec(b), "the same spec: role, lens, limits, cwd");
    assert.equal(nodeRan(), "");
    await ws.baton(["wait", a, b]);
  });

  test("a spawn of another backend (--cmd, --backend) runs in the supervisor as Node's CLI runs it", async () => {
    const program = "sh -c 'cat > /dev/null; echo answered by $0' the-program";
    const line = ["spawn", "--backend", "command", "--cmd", program, "--wait", "--json", "any task"];
    const mine = await native(line);
    assert.equal(mine.code, 0, mine.stderr);
    assert.equal(nodeRan(), "", "no Node process ran it");
    const node = await ws.baton(line);
    assert.equal(node.code, 0, node.stderr);
    const [a, b] = [mine, node].map((ran) => JSON.parse(ran.stdout) as WorkerResult);
    assert.equal(a.answer, "answered by the-program");
    assert.equal(b.answer, a.answer);
    const spec = (id: string) => {
      const {
        id: _,
        createdAt: __,
        ...rest
      } = JSON.parse(readFileSync(join(ws.home, "workers", id, "spec.json"), "utf8"));
      return rest;
    };
    assert.deepEqual(spec(a.id), spec(b.id), "the same spec: backend, program, cwd");
  });

  test("a follow-up (--continue) runs in the supervisor, in its parent's agent thread", async () => {
    const first = await native(["spawn", "--wait", "--json", asking("remember", "the word is plum")]);
    assert.equal(first.code, 0, first.stderr);
    const parent = JSON.parse(first.stdout) as WorkerResult;
    assert.ok(parent.threadId);
    const next = await native(["spawn", "--continue", parent.id, "--wait", "--json", "and now recall it"]);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(nodeRan(), "", "no Node process ran it");
    const child = JSON.parse(next.stdout) as WorkerResult;
    assert.notEqual(child.id, parent.id);
    assert.equal(child.threadId, parent.threadId, "the same agent thread");
    const spec = JSON.parse(readFileSync(join(ws.home, "workers", child.id, "spec.json"), "utf8"));
    assert.equal(spec.continues, parent.id, "the follow-up names its parent");
    const asked = ws.model.requests.find((r) => r.userText.includes("and now recall it"));
    assert.ok(asked, "the follow-up reached the model");
    assert.match(JSON.stringify(asked.body.input), /the word is plum/, "with the thread before it");
  });

  test("spawn --tasks FILE reads the file from the caller's folder, in the supervisor", async () => {
    const folder = join(ws.dir, "plans");
    mkdirSync(folder, { recursive: true });
    const lines = [
      { task: asking("first of the plan", "one"), label: "plan-a" },
      { task: asking("second of the plan", "two"), label: "plan-b" },
    ];
    writeFileSync(join(folder, "plan.jsonl"), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
    const ran = await native(["spawn", "--tasks", "plan.jsonl", "--wait", "--json"], noNode, folder);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(nodeRan(), "", "no Node process ran it");
    const results = JSON.parse(ran.stdout) as WorkerResult[];
    assert.deepEqual(
      results.map((r) => [r.label, r.answer]),
      [
        ["plan-a", "one"],
        ["plan-b", "two"],
      ],
    );
    const missing = await native(["spawn", "--tasks", "nowhere.jsonl"], noNode, folder);
    assert.deepEqual(missing, await ws.baton(["spawn", "--tasks", "nowhere.jsonl"], { cwd: folder }));
    assert.match(
      missing.stderr,
      /^baton: nowhere\.jsonl: the --tasks file does not exist \(relative to .*plans\)/,
    );
    // Not a regular file: refused before it is read (a FIFO would block the supervisor's reader).
    const fifo = await native(["spawn", "--tasks", "/dev/zero"], noNode, folder);
    assert.notEqual(fifo.code, 0);
    assert.match(fifo.stderr, /^baton: \/dev\/zero: the --tasks file is not a regular file/);
  });

  test("hands every other command line to Node's CLI, and refuses a worker as Node's CLI does", async () => {
    const lines = [["--version"], ["logs", "w1"], ["wait", "--bogus"], ["spawn", "-"], ["shutdown"]];
    for (const line of [...lines, ["spawn", "--backend", "my-agent", "x"]]) {
      rmSync(marks, { force: true });
      const ran = await native(line);
      assert.equal(ran.code, 99, `${line.join(" ")} went to node`);
      assert.equal(nodeRan(), `node ${join(ROOT, "dist/cli/main.js")} ${line.join(" ")}\n`);
    }
    rmSync(marks, { force: true });
    assert.deepEqual(await native(["wait", "--bogus"], ws.env), await ws.baton(["wait", "--bogus"]));
    // A worker's process (its variables are what the supervisor checks) is refused at the hello; Node's
    // CLI then says why.
    const count = async () => JSON.parse((await native(["ls", "--json"])).stdout).workers.length;
    const before = await count();
    const inWorker = { ...ws.env, BATON_WORKER_ID: "w1" };
    const refused = await native(["spawn", "nested"], inWorker);
    assert.deepEqual(refused, await ws.baton(["spawn", "nested"], { env: inWorker }));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /^baton: workers cannot/);
    assert.equal(await count(), before, "no worker was started");
  });

  test("Ctrl+C on wait stops the awaited workers gracefully, as Node's CLI does", async () => {
    const spawned = await native(["spawn", `hang\n${modelScriptLine([{ type: "hang" }])}`]);
    const id = spawned.stdout.trim();
    const child = spawn(NATIVE, ["wait", id], {
      env: noNode,
      cwd: ws.dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const ended = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // Once the client catches SIGINT (its first act), the interrupt is the command's.
    while (!/^SigCgt:\s*[0-9a-f]*[2367abef]$/m.test(readFileSync(`/proc/${child.pid}/status`, "utf8"))) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    child.kill("SIGINT");
    assert.equal(await ended, 130, stderr);
    assert.match(stderr, /stopping the workers gracefully/);
    assert.match(stderr, /the workers were stopped; summary saved in /);
    assert.match(stdout, new RegExp(id));
    const worker = (
      JSON.parse((await native(["ls", "--json"])).stdout) as { workers: WorkerInfo[] }
    ).workers.find((w) => w.id === id);
    assert.equal(worker?.state, "canceled");
    assert.equal(nodeRan(), "");
  });

  /**
   * `baton wait` by the native client on a pseudo-terminal of `cols` × `rows`, for a new worker labelled
   * `label` that hangs: what it drew so far, a wait for a pattern to be drawn, and its exit code.
   */
  async function waitOnTerminal(label: string, cols: number, rows: number) {
    const id = (
      await native(["spawn", "--label", label, `hang\n${modelScriptLine([{ type: "hang" }])}`])
    ).stdout.trim();
    const terminal = pty.spawn(NATIVE, ["wait", id], {
      cwd: ws.dir,
      env: noNode as Record<string, string>,
      cols,
      rows,
    });
    const drawn = { screen: "" };
    const waiters: { pattern: RegExp; resolve: () => void }[] = [];
    terminal.onData((data) => {
      drawn.screen += data;
      for (const w of waiters) if (w.pattern.test(drawn.screen)) w.resolve();
    });
    const until = (pattern: RegExp, what: string) =>
      Promise.race([
        new Promise<void>((resolve) => {
          if (pattern.test(drawn.screen)) resolve();
          else waiters.push({ pattern, resolve });
        }),
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`${what} was never drawn: ${JSON.stringify(drawn.screen)}`)),
            20_000,
          ).unref(),
        ),
      ]);
    const exited = new Promise<number>((resolve) => terminal.onExit(({ exitCode }) => resolve(exitCode)));
    return { id, terminal, drawn, until, exited };
  }

  test("wait on a terminal redraws its live lines at the terminal's new size when it is resized", async () => {
    const { id, terminal, drawn, until, exited } = await waitOnTerminal("wide", 24, 10);
    // 24 columns: the live line is cut after the state, its time and tokens do not fit.
    await until(new RegExp(`${id} +wide +(\x1b\\[[0-9;]*m)?running(\x1b\\[[0-9;]*m)? *…`), "the narrow line");
    assert.doesNotMatch(drawn.screen, /tokens/);
    drawn.screen = "";
    terminal.resize(100, 10);
    await until(/running(\x1b\[[0-9;]*m)? +[0-9.]+s +[0-9,]+ tokens/, "the line at 100 columns");
    terminal.write("\x03");
    assert.equal(await exited, 130, drawn.screen);
    assert.equal(nodeRan(), "", "no command went to Node");
  });

  test("wait on a terminal draws its live lines and takes Ctrl+C from the terminal, in the supervisor", async () => {
    const { id, terminal, drawn, until, exited } = await waitOnTerminal("long", 100, 30);
    await until(new RegExp(`${id} +long +(\x1b\\[[0-9;]*m)?running`), "the live line of the running worker");
    terminal.write("\x03");
    assert.equal(await exited, 130, drawn.screen);
    assert.match(drawn.screen, /stopping the workers gracefully/);
    assert.match(drawn.screen, /the workers were stopped; summary saved in /);
    const worker = (
      JSON.parse((await native(["ls", "--json"])).stdout) as { workers: WorkerInfo[] }
    ).workers.find((w) => w.id === id);
    assert.equal(worker?.state, "canceled");
    assert.equal(nodeRan(), "", "no command went to Node");
  });
});
