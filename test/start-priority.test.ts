import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { identify } from "../dist/supervisor/processes.js";
import { BURST_QUIET_MS, START_NICE, StartPriority } from "../dist/supervisor/start-priority.js";
import { ManualClock } from "./support/clock.ts";
import { FIXTURES, Workspace } from "./support/harness.ts";

// A burst of workers starts below the supervisor's priority, and every worker's session gets the
// workers' priority back once no worker has been starting for a moment (supervisor/start-priority.ts).
// Run with real processes and the kernel's own autogroups, as /proc/<pid>/autogroup shows them; the
// moment passes on a clock the test moves.

const AUTOGROUPS = (() => {
  try {
    return /nice/.test(readFileSync("/proc/self/autogroup", "utf8"));
  } catch {
    return false;
  }
})();
const skip = AUTOGROUPS ? false : "this kernel groups no processes by session (no /proc/self/autogroup)";

/** The nice value of the session `pid` is in, as the kernel reports it. */
const sessionNice = (pid: number) =>
  Number(/nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, "utf8"))?.[1]);

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

/** A process that waits to be killed: in a session of its own (`detached`), as a worker's agent is, or in ours. */
async function sleeper(ownSession: boolean): Promise<number> {
  const child = spawn("sleep", ["600"], { detached: ownSession, stdio: "ignore" });
  children.push(child);
  await once(child, "spawn");
  return child.pid!;
}

describe("start priority", { skip }, () => {
  test("agents run lowered while a burst starts, and get their priority back once none has started for a moment", async () => {
    const clock = new ManualClock();
    const starts = new StartPriority(clock, 0);
    const [a, b] = [starts.begin(), starts.begin()];
    const [first, second] = [await sleeper(true), await sleeper(true)];
    a(identify(first));
    assert.equal(sessionNice(first), START_NICE, "lowered while another is still to start");
    b(identify(second));
    b(identify(second)); // a start that is over already changes nothing when it is ended again
    clock.advance(BURST_QUIET_MS - 1);
    assert.deepEqual([sessionNice(first), sessionNice(second)], [START_NICE, START_NICE]);
    // The next spawn of a run of them comes in: the burst goes on.
    const c = starts.begin();
    clock.advance(BURST_QUIET_MS);
    assert.equal(sessionNice(first), START_NICE, "not given back while a start is open");
    const third = await sleeper(true);
    c(identify(third));
    assert.equal(sessionNice(third), START_NICE);
    clock.advance(BURST_QUIET_MS - 1);
    assert.equal(sessionNice(third), START_NICE);
    clock.advance(1);
    for (const pid of [first, second, third])
      assert.equal(sessionNice(pid), 0, `session of ${pid} given back`);
    assert.deepEqual(clock.pending, [], "no timer left");
    // A start that failed (no agent) lowers nothing and leaves nothing to give back.
    starts.begin()();
    assert.deepEqual(clock.pending, []);
  });

  test("a session the agent does not lead, or a process that ended, is never touched", async () => {
    const mine = readFileSync("/proc/self/autogroup", "utf8");
    const clock = new ManualClock();
    const starts = new StartPriority(clock, 0);
    const [a, b] = [starts.begin(), starts.begin()];
    const inOurSession = await sleeper(false);
    const gone = await sleeper(true);
    const id = identify(gone)!;
    const child = children.find((c) => c.pid === gone)!;
    child.kill("SIGKILL");
    await once(child, "exit");
    try {
      a(identify(inOurSession));
      assert.equal(readFileSync("/proc/self/autogroup", "utf8"), mine, "the caller's session is as it was");
      b(id); // ended and reaped: nothing to lower, and nothing thrown
      assert.deepEqual(clock.pending, [], "nothing lowered, so nothing to give back");
    } finally {
      clock.advance(BURST_QUIET_MS);
    }
    assert.equal(readFileSync("/proc/self/autogroup", "utf8"), mine);
  });

  test("workers that run at START_NICE or lower are never moved", async () => {
    const clock = new ManualClock();
    const starts = new StartPriority(clock, START_NICE);
    const [a, b] = [starts.begin(), starts.begin()];
    const pid = await sleeper(true);
    a(identify(pid));
    assert.equal(sessionNice(pid), 0, "not lowered: it runs lower already (its helper's --nice sets that)");
    b();
    assert.deepEqual(clock.pending, []);
  });

  test("a burst of workers through the CLI: every worker that runs on runs at the workers' priority", async () => {
    const ws = await Workspace.create(directiveScript());
    try {
      const tasks = [1, 2, 3, 4].flatMap((i) => ["--task", `worker ${i}`]);
      const fixture = join(FIXTURES, "session-nice.sh");
      const ids = (await ws.ok(["spawn", "--cmd", fixture, ...tasks])).trim().split("\n");
      assert.equal(ids.length, 4);
      await ws.ok(["wait", ...ids]);
      for (const id of ids) {
        const result = await ws.json<WorkerResult>(["result", id]);
        assert.equal(result.state, "succeeded", result.answer);
        assert.match(result.answer, /^\/autogroup-\d+ nice 0$/m, `${id}, 3 s after its start`);
      }
    } finally {
      await ws.cleanup();
    }
  });
});
