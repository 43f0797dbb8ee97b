import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Baton } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { identify } from "../dist/supervisor/processes.js";
import { START_NICE, StartPriority } from "../dist/supervisor/start-priority.js";
import { FIXTURES, Workspace } from "./support/harness.ts";

// A burst of workers starts below the supervisor's priority, and every worker's session gets the
// workers' priority back once the last of the burst has started (supervisor/start-priority.ts). Run
// with real processes and the kernel's own autogroups, as /proc/<pid>/autogroup shows them.

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
  test("agents started while others are still to start run lowered until the last has started", async () => {
    const starts = new StartPriority(0);
    const [a, b, c] = [starts.begin(), starts.begin(), starts.begin()];
    const [first, second, last] = [await sleeper(true), await sleeper(true), await sleeper(true)];
    a(identify(first));
    assert.equal(sessionNice(first), START_NICE, "lowered while two are still to start");
    b(identify(second));
    assert.equal(sessionNice(second), START_NICE);
    assert.equal(sessionNice(first), START_NICE);
    c(identify(last));
    for (const pid of [first, second, last])
      assert.equal(sessionNice(pid), 0, `session of ${pid} given back`);
    // A start that is over already changes nothing when it is ended again.
    const d = starts.begin();
    const next = starts.begin();
    const more = await sleeper(true);
    d(identify(more));
    d(identify(more));
    assert.equal(sessionNice(more), START_NICE, "one start is still open");
    next();
    assert.equal(sessionNice(more), 0, "a start that failed (no agent) ends the burst too");
  });

  test("a session the agent does not lead, or a process that ended, is never touched", async () => {
    const mine = readFileSync("/proc/self/autogroup", "utf8");
    const starts = new StartPriority(0);
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
    } finally {
      b(id); // ended and reaped: nothing to lower or give back, and nothing thrown
    }
    assert.equal(readFileSync("/proc/self/autogroup", "utf8"), mine);
  });

  test("workers that run at START_NICE or lower are never moved", async () => {
    const starts = new StartPriority(START_NICE);
    const [a, b] = [starts.begin(), starts.begin()];
    const pid = await sleeper(true);
    a(identify(pid));
    assert.equal(sessionNice(pid), 0, "not lowered: it runs lower already (its helper's --nice sets that)");
    b();
  });

  test("a burst of workers through the CLI: once the last has started, every session runs at the workers' priority", async () => {
    const ws = await Workspace.create(directiveScript());
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    const stop = new AbortController();
    try {
      const pids = new Map<string, number>();
      const allStarted = (async () => {
        for await (const event of baton.watch({ signal: stop.signal })) {
          if (event.type === "started") pids.set(event.worker, event.pid);
          if (pids.size === 6) return;
        }
      })();
      const tasks = [1, 2, 3, 4, 5, 6].flatMap((i) => ["--task", `idle ${i}`]);
      const ids = (await ws.ok(["spawn", "--cmd", join(FIXTURES, "idle-agent.sh"), ...tasks]))
        .trim()
        .split("\n");
      assert.equal(ids.length, 6);
      await allStarted;
      for (const [id, pid] of pids) assert.equal(sessionNice(pid), 0, `${id}'s session (agent ${pid})`);
      await baton.stop("all", { graceSeconds: 1 });
    } finally {
      stop.abort();
      baton.close();
      await ws.cleanup();
    }
  });
});
