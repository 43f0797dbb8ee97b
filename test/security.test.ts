import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Baton } from "../dist/index.js";
import { directiveScript, message } from "../dist/scripted-model/index.js";
import { identify, isSameProcess, signalAll, workerProcesses } from "../dist/supervisor/processes.js";
import { alive, CLI, FIXTURES, sleep, Workspace } from "./support/harness.ts";

/** Every file and folder under `dir`, with its lstat, folders first. */
function walk(dir: string): { path: string; mode: number; kind: string }[] {
  const found: { path: string; mode: number; kind: string }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = lstatSync(path);
    const kind = info.isDirectory() ? "dir" : info.isSocket() ? "socket" : info.isFile() ? "file" : "other";
    found.push({ path, mode: info.mode & 0o777, kind });
    if (info.isDirectory()) found.push(...walk(path));
  }
  return found;
}

/** Every file under `dir` whose bytes contain `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  return walk(dir)
    .filter((entry) => entry.kind === "file" && readFileSync(entry.path).includes(needle))
    .map((entry) => entry.path);
}

/** A `sleep` of this test's own; `ended` settles once it has exited and been reaped. */
function startSleeper(detached: boolean) {
  const child = spawn("sleep", ["300"], { detached, stdio: "ignore" });
  const ended = once(child, "exit");
  child.unref();
  return { pid: child.pid!, ended };
}

describe("security", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  test("the store, every file in it and the socket are open to the owning user only", async () => {
    // A store made beforehand by other means, readable by all: the supervisor closes it.
    mkdirSync(ws.home, { mode: 0o755 });
    chmodSync(ws.home, 0o755);
    const id = (await ws.ok(["spawn", "--codex-bin", join(FIXTURES, "secret-agent.sh"), "x"])).trim();
    await ws.ok(["wait", id]);
    await ws.ok(["plan", "set", "one step"]);
    assert.equal(statSync(ws.home).mode & 0o777, 0o700, ".baton itself");
    const entries = walk(ws.home);
    assert.ok(
      entries.some((e) => e.kind === "socket"),
      "the socket is in the store",
    );
    assert.ok(
      entries.some((e) => e.path.endsWith("transcript.log")),
      "a worker's files are there",
    );
    for (const entry of entries) {
      assert.equal(entry.mode & 0o077, 0, `${entry.path} (${entry.kind}, ${entry.mode.toString(8)})`);
    }
  });

  test("a deep workspace's socket goes in an owner-only folder, and a folder someone else owns is refused", async () => {
    const tmp = join(ws.dir, "tmp");
    mkdirSync(tmp);
    const home = join(ws.dir, "deep".repeat(30), ".baton");
    mkdirSync(join(home, ".."), { recursive: true });
    const env = { ...ws.env, BATON_HOME: home, TMPDIR: tmp };
    const socketDir = join(tmp, `baton-${process.getuid!()}`);
    try {
      assert.equal((await ws.baton(["ls"], { env })).code, 0);
      assert.equal(statSync(socketDir).mode & 0o777, 0o700);
      const socket = readdirSync(socketDir).find((name) => name.endsWith(".sock"))!;
      assert.equal(statSync(join(socketDir, socket)).mode & 0o077, 0);
    } finally {
      await ws.baton(["shutdown"], { env });
    }
    // Someone else's folder where ours should be: neither the client nor the supervisor uses it.
    chownSync(socketDir, 12345, 12345);
    const refused = await ws.baton(["ls"], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^baton: the supervisor's socket folder .* belongs to another user/);
    assert.equal(refused.stderr.trim().split("\n").length, 1);
    chownSync(socketDir, process.getuid!(), process.getgid!());
    chmodSync(socketDir, 0o777);
    const open = await ws.baton(["ls"], { env });
    assert.equal(open.code, 1);
    assert.match(open.stderr, /socket folder .* may be written by other users/);
  });

  test("a worker cannot reach the supervisor, even after dropping the worker variables", async () => {
    // The orchestrator holds a connection of its own, so that a worker claiming its pid claims a
    // process that really is a client.
    const orchestrator = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    try {
      const before = (await orchestrator.list()).workers.map((w) => w.id);
      const env = { ...ws.env, BATON_TEST_CLI: CLI, BATON_TEST_ORCHESTRATOR_PID: String(process.pid) };
      const id =
        // Unconfined: Baton's sandbox hides the store, socket included, from every worker (see
        // test/confinement.test.ts); this proves the check behind it, for a worker that could see it.
        (
          await ws.baton(
            ["spawn", "--unconfined", "--codex-bin", join(FIXTURES, "intruder-agent.mjs"), "get in"],
            {
              env,
            },
          )
        ).stdout.trim();
      assert.match(id, /^w\d+$/);
      const waited = await orchestrator.wait([id]);
      assert.equal(waited.workers[0]?.state, "succeeded");
      const outcomes = JSON.parse((await orchestrator.result(id)).answer) as Record<string, string>;
      const expected: Record<string, RegExp> = {
        "cli without the variables":
          /^refused: baton: workers cannot use the supervisor \(process \d+ is part of worker w\d+\)/,
        "cli spawn with an empty environment": /^refused: baton: workers cannot use the supervisor/,
        "cli in a new session": /^refused: baton: workers cannot use the supervisor/,
        "socket, own pid":
          /^refused \(nested\): workers cannot use the supervisor \(process \d+ is part of worker/,
        "socket, the orchestrator's pid": /^refused \(usage\): process \d+ does not hold this connection/,
        "socket, the supervisor's pid": /^refused \(usage\): process \d+ does not hold this connection/,
        "socket, no hello": /^refused \(usage\): the first request must be "hello"/,
      };
      assert.deepEqual(Object.keys(outcomes), Object.keys(expected));
      for (const [attempt, pattern] of Object.entries(expected)) {
        assert.match(outcomes[attempt] ?? "", pattern, attempt);
      }
      // Nothing the intruder tried left a worker behind.
      const after = (await orchestrator.list()).workers.map((w) => w.id);
      assert.deepEqual(after, [...before, id]);
    } finally {
      orchestrator.close();
    }
    const log = readFileSync(join(ws.home, "supervisor.log"), "utf8");
    assert.match(log, /refused a connection: workers cannot use the supervisor/);
  });

  test("API keys in the environment never reach the disk, even when the agent repeats one", async () => {
    const key = `sk-proj-${"Q".repeat(8)}${Date.now()}SECRET`;
    const scriptedKey = `scripted-${Date.now()}-KEY-VALUE`;
    // Codex authenticates to the scripted model with SCRIPTED_KEY; the model's answer quotes OPENAI_API_KEY.
    const leaky = await Workspace.create(() => message(`here is the key: ${key} (and again: ${key})`));
    try {
      const env = { ...leaky.env, OPENAI_API_KEY: key, SCRIPTED_KEY: scriptedKey };
      const id = (await leaky.baton(["spawn", "--label", "leak", "tell me the key"], { env })).stdout.trim();
      assert.equal((await leaky.baton(["wait", id], { env })).code, 0);
      const answer = (await leaky.baton(["result", id], { env })).stdout;
      assert.match(answer, /here is the key: \[redacted\] \(and again: \[redacted\]\)/);
      const events = readFileSync(join(leaky.home, "workers", id, "events.jsonl"), "utf8");
      assert.match(events, /\[redacted\]/, "the events saw the answer");
      for (const secret of [key, scriptedKey]) {
        assert.deepEqual(filesHolding(leaky.home, secret), [], "nothing in the store");
        const outside = walk(leaky.dir).filter(
          (e) => e.kind === "file" && !e.path.startsWith(leaky.codexHome) && !e.path.startsWith(leaky.home),
        );
        assert.deepEqual(
          outside.filter((e) => readFileSync(e.path).includes(secret)).map((e) => e.path),
          [],
          "nothing else in the workspace",
        );
      }
      const supervisor = leaky.supervisorPid()!;
      const environ = readFileSync(`/proc/${supervisor}/environ`, "latin1");
      assert.ok(!environ.includes(key) && !environ.includes(scriptedKey), "the supervisor holds no key");
    } finally {
      await leaky.cleanup();
    }
  });

  test("a process is only signalled while it is the one that was recorded", async () => {
    // A session leader that Baton did not start, as a reused pid would be: a wrong start time.
    const { pid, ended } = startSleeper(true);
    try {
      const real = identify(pid)!;
      assert.ok(real.startTime !== undefined && isSameProcess(real));
      const reused = { pid, startTime: real.startTime! - 1 };
      assert.equal(isSameProcess(reused), false);
      assert.deepEqual(workerProcesses(reused, "BATON_WORKER_MARK=none:w1"), [], "not its session");
      signalAll([reused], "SIGKILL");
      await sleep(200);
      assert.ok(alive(pid), "the process with the reused pid lives");
      // The same calls with the recorded identity do find and stop it: the check above can fail.
      assert.deepEqual(
        workerProcesses(real, "BATON_WORKER_MARK=none:w1").map((p) => p.pid),
        [pid],
      );
      signalAll([real], "SIGKILL");
      const [, signal] = await ended;
      assert.equal(signal, "SIGKILL", "the recorded process is stopped");
    } finally {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  });

  test("stop --all signals only the workspace's own workers' processes", async () => {
    const other = await Workspace.create(directiveScript());
    const { pid: bystander } = startSleeper(true);
    try {
      const idle = join(FIXTURES, "idle-agent.sh");
      const mine = (await ws.ok(["spawn", "--codex-bin", idle, "idle"])).trim();
      const theirs = (await other.ok(["spawn", "--codex-bin", idle, "idle"])).trim();
      const stopped = JSON.parse(await ws.ok(["stop", "--all", "--grace", "0", "--json"])) as {
        stopped: string[];
      };
      assert.ok(stopped.stopped.includes(mine));
      const [after] = (await other.json<{ workers: { id: string; state: string }[] }>(["ls"])).workers.filter(
        (w) => w.id === theirs,
      );
      assert.equal(after?.state, "running", "the other workspace's worker, same id space, runs on");
      assert.ok(alive(bystander), "a process Baton did not start lives");
      await other.ok(["stop", theirs, "--grace", "0"]);
    } finally {
      process.kill(bystander, "SIGKILL");
      await other.cleanup();
    }
  });

  test("opening a connection stays cheap", async () => {
    await ws.ok(["ls"]);
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const start = performance.now();
      const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
      times.push(performance.now() - start);
      baton.close();
    }
    times.sort((a, b) => a - b);
    const median = times[7]!;
    assert.ok(median < 150, `median ${median.toFixed(1)} ms to open and check a connection`);
  });
});
