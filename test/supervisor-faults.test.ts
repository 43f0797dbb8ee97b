import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Baton, type BatonError, type WorkerInfo } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { oneLineError, until, waitForState, workerProcesses } from "./support/faults.ts";
import { alive, FIXTURES, Workspace } from "./support/harness.ts";

// A supervisor that stops answering, or loses its socket or its whole store, never hangs a command:
// each ends in bounded time, naming the supervisor's pid when it cannot be reached, and `baton shutdown`
// still ends it. Bounds below are generous on purpose: they catch a hang, not a slow machine.

const IDLE = join(FIXTURES, "idle-agent.sh");
const BOUND_MS = 20_000;

/** Runs the CLI and measures how long it took. */
async function timed(ws: Workspace, args: readonly string[], env?: NodeJS.ProcessEnv) {
  const started = Date.now();
  const result = await ws.baton(args, env ? { env } : {});
  return { ...result, ms: Date.now() - started };
}

describe("a supervisor that stops answering or loses its socket", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  const spawnIdle = async () => {
    const id = (await ws.ok(["spawn", "--codex-bin", IDLE, "idle"])).trim();
    await waitForState(ws, id, "running");
    return id;
  };

  test("a stopped supervisor (SIGSTOP): ls, wait --timeout and a wait already under way end with its pid named", async () => {
    const id = await spawnIdle();
    const pid = ws.supervisorPid();
    assert.ok(pid);
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    const waiting = baton.wait([id]).then(
      () => assert.fail("a wait on a stopped supervisor resolved"),
      (error: BatonError) => error,
    );
    const named = new RegExp(
      `the supervisor \\(pid ${pid}\\) of ${ws.home} is stopped \\(SIGSTOP or Ctrl\\+Z\\) and is not answering.*: ` +
        `end it with \`baton shutdown\` \\(or \`kill -9 ${pid}\`\\), or let it go on with \`kill -CONT ${pid}\``,
    );
    process.kill(pid, "SIGSTOP");
    try {
      const [ls, wait, inFlight] = await Promise.all([
        timed(ws, ["ls"]),
        timed(ws, ["wait", id, "--timeout", "2"]),
        waiting,
      ]);
      assert.equal(ls.code, 1, ls.stderr);
      assert.match(oneLineError(ls.stderr), named);
      assert.ok(ls.ms < BOUND_MS, `ls took ${ls.ms} ms`);
      assert.equal(wait.code, 124, wait.stderr);
      assert.match(oneLineError(wait.stderr), /timed out waiting \(--timeout\): the supervisor \(pid/);
      assert.match(wait.stderr, named);
      assert.ok(wait.ms < BOUND_MS, `wait --timeout 2 took ${wait.ms} ms`);
      assert.equal(inFlight.code, "timeout");
      assert.match(inFlight.message, named);
    } finally {
      process.kill(pid, "SIGCONT");
      baton.close();
    }
    // Once it runs again, so does everything else: nothing was lost.
    const { workers } = await ws.json<{ workers: WorkerInfo[] }>(["ls"]);
    assert.equal(workers.find((w) => w.id === id)?.state, "running");
    assert.equal(ws.supervisorPid(), pid);
    await ws.ok(["stop", id, "--grace", "0"]);
  });

  test("a caller held up by a long synchronous call keeps its connection: its own pause is not the supervisor's silence", async () => {
    const id = await spawnIdle();
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    try {
      const waiting = baton.wait([id]).then(
        (result) => result,
        (error: BatonError) => error,
      );
      await baton.list();
      // Longer than a supervisor may stay silent (5 s), as a caller's spawnSync or a large synchronous
      // read holds it: what the supervisor sent meanwhile is unread, not missing.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 7_000);
      const { workers } = await baton.list();
      assert.equal(workers.find((w) => w.id === id)?.state, "running");
      await ws.ok(["stop", id, "--grace", "0"]);
      const waited = await waiting;
      assert.ok(!(waited instanceof Error), `the wait failed: ${(waited as Error).message}`);
      assert.equal(waited.workers.find((w) => w.id === id)?.state, "canceled");
    } finally {
      baton.close();
    }
  });

  test("a request whose reply came while its caller was held up is answered, not timed out", async () => {
    await ws.ok(["ls"]); // a supervisor runs
    const { Connection } = await import("../dist/client/connection.js");
    const { endpointFor } = await import("../dist/supervisor/endpoint.js");
    const connection = await Connection.open(endpointFor(ws.home).socket, { home: ws.home });
    try {
      const listed = connection.request<{ workers: unknown[] }>("list", {}, { timeoutMs: 300 });
      // The reply comes within its 300 ms, while this process is held for a second: it is read, not dropped.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_000);
      assert.ok(Array.isArray((await listed).workers));
    } finally {
      connection.close();
    }
  });

  test("baton shutdown ends a stopped supervisor by its pid, and its workers with it", async () => {
    const id = await spawnIdle();
    const pid = ws.supervisorPid();
    assert.ok(pid);
    const agents = workerProcesses(ws, id);
    assert.ok(agents.length > 0);
    process.kill(pid, "SIGSTOP");
    const shutdown = await timed(ws, ["shutdown"]);
    assert.equal(shutdown.code, 0, shutdown.stderr);
    assert.match(shutdown.stderr, new RegExp(`the supervisor \\(pid ${pid}\\) did not answer: ended it`));
    assert.ok(shutdown.ms < 2 * BOUND_MS, `shutdown took ${shutdown.ms} ms`);
    assert.equal(alive(pid), false);
    await until("the worker's processes are gone", () => workerProcesses(ws, id).length === 0);
    const { workers } = await ws.json<{ workers: WorkerInfo[] }>(["ls"]);
    assert.equal(workers.find((w) => w.id === id)?.state, "canceled", "stopped by the SIGTERM it was sent");
  });

  test("a deleted supervisor.sock is listened on again: the next command reaches the same supervisor", async () => {
    const id = await spawnIdle();
    const pid = ws.supervisorPid();
    assert.ok(pid);
    unlinkSync(join(ws.home, "supervisor.sock"));
    const ls = await timed(ws, ["ls", "--json"]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.ok(ls.ms < BOUND_MS, `ls took ${ls.ms} ms`);
    const { workers } = JSON.parse(ls.stdout) as { workers: WorkerInfo[] };
    assert.equal(workers.find((w) => w.id === id)?.state, "running", "the worker ran on");
    assert.equal(ws.supervisorPid(), pid, "the same supervisor, not a second one");
    const shutdown = await ws.baton(["shutdown"]);
    assert.equal(shutdown.code, 0, shutdown.stderr);
    await until("the supervisor is gone", () => !alive(pid));
    assert.deepEqual(workerProcesses(ws, id), []);
  });

  test("a store removed under the supervisor (rm -rf, git clean -fdx): it ends, and the next command gets a new one", async () => {
    const id = await spawnIdle();
    const pid = ws.supervisorPid();
    assert.ok(pid);
    rmSync(ws.home, { recursive: true, force: true });
    const ls = await timed(ws, ["ls", "--json"]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.ok(ls.ms < BOUND_MS, `ls took ${ls.ms} ms`);
    assert.deepEqual((JSON.parse(ls.stdout) as { workers: WorkerInfo[] }).workers, [], "a new, empty store");
    await until("the old supervisor is gone", () => !alive(pid));
    await until("its worker is stopped, not left running unseen", () => workerProcesses(ws, id).length === 0);
    const fresh = ws.supervisorPid();
    assert.ok(fresh && fresh !== pid && alive(fresh));
    assert.equal((await ws.baton(["shutdown"])).code, 0);
    await until("the new supervisor is gone", () => !alive(fresh));
  });

  test("a stopped supervisor without its socket is named with its pid, and baton shutdown still ends it", async () => {
    const id = await spawnIdle();
    const pid = ws.supervisorPid();
    assert.ok(pid);
    process.kill(pid, "SIGSTOP");
    try {
      unlinkSync(join(ws.home, "supervisor.sock"));
      const ls = await timed(ws, ["ls"]);
      assert.equal(ls.code, 1, ls.stderr);
      assert.match(
        oneLineError(ls.stderr),
        new RegExp(
          `the supervisor \\(pid ${pid}\\) of .* is stopped \\(SIGSTOP or Ctrl\\+Z\\) and has lost its socket .*: end it with \`baton shutdown\` \\(or \`kill -9 ${pid}\`\\), or let it go on with \`kill -CONT ${pid}\``,
        ),
      );
      assert.ok(ls.ms < BOUND_MS, `ls took ${ls.ms} ms`);
      const shutdown = await timed(ws, ["shutdown"]);
      assert.equal(shutdown.code, 0, shutdown.stderr);
      assert.match(shutdown.stderr, new RegExp(`the supervisor \\(pid ${pid}\\) did not answer: ended it`));
    } finally {
      if (alive(pid)) process.kill(pid, "SIGCONT");
    }
    assert.equal(alive(pid), false);
    await until("the worker's processes are gone", () => workerProcesses(ws, id).length === 0);
  });
});

describe("BATON_HOME at a folder Baton did not make", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  test("a folder with other files in it is refused in one line, and left as it was", async () => {
    const folder = join(ws.dir, "my-notes");
    mkdirSync(folder);
    writeFileSync(join(folder, "notes.txt"), "mine\n");
    chmodSync(folder, 0o755);
    const env = { ...ws.env, BATON_HOME: folder };
    for (const args of [["ls"], ["spawn", "--codex-bin", IDLE, "x"], ["supervisor"]]) {
      const result = await ws.baton(args, { env });
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
      assert.match(
        oneLineError(result.stderr),
        new RegExp(`${folder} is not a run store .*: point BATON_HOME at a new or empty folder`),
      );
    }
    assert.equal(statSync(folder).mode & 0o777, 0o755, "its mode is kept");
    assert.deepEqual(readdirSync(folder), ["notes.txt"], "nothing was made in it");
  });

  test("a new or empty folder becomes a store, owner-only and marked; a store from before markers is kept", async () => {
    const empty = join(ws.dir, "empty");
    mkdirSync(empty, { mode: 0o755 });
    chmodSync(empty, 0o755);
    const older = join(ws.dir, "older-store");
    mkdirSync(join(older, "workers"), { recursive: true });
    for (const home of [empty, join(ws.dir, "new", ".baton"), older]) {
      mkdirSync(join(home, ".."), { recursive: true });
      const env = { ...ws.env, BATON_HOME: home };
      try {
        assert.equal((await ws.baton(["ls"], { env })).code, 0);
        assert.equal(statSync(home).mode & 0o777, 0o700, home);
        assert.ok(existsSync(join(home, ".baton-store")), `${home} is marked`);
      } finally {
        await ws.baton(["shutdown"], { env });
      }
    }
  });
});
