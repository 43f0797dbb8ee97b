import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Baton, type BatonError, type WorkerInfo, type WorkerResult } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { workerProcesses } from "./support/faults.ts";
import { resumableTask, sleep, Workspace } from "./support/harness.ts";

// `baton resume` is idempotent: a lost worker named twice, or resumed by two callers at once (two
// terminals, two library calls in the same tick), is started exactly once, in its own thread.

type Resumed = { resumed: { id: string; how: string; threadId?: string }[] };

describe("resume started twice at once", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  const list = async () => (await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers;

  test("a worker named twice, two library calls in one tick and two CLI resumes at once each start it once", async () => {
    const names = ["named-twice", "library-race", "cli-race"] as const;
    const ids: string[] = [];
    for (const name of names)
      ids.push((await ws.ok(["spawn", "--max-parallel", "3", resumableTask(name)])).trim());
    const [twice, library, cli] = ids as [string, string, string];
    // Each must have recorded its thread, and its first request must have reached the model (whose
    // `attempts` step then counts this attempt: a resume meets the next step), before the crash. Its
    // processes alone say too little: bubblewrap and codex are two before codex has asked anything,
    // and codex, below the supervisor's priority, may not have asked yet.
    const asked = (name: string) => ws.model.requests.some((r) => r.userText.includes(name));
    for (let i = 0; ; i++) {
      const workers = await list();
      const ready = ids.every(
        (id, index) =>
          workers.find((w) => w.id === id)?.threadId &&
          asked(names[index]!) &&
          workerProcesses(ws, id).length > 1,
      );
      if (ready) break;
      assert.ok(i < 600, `the workers never got going: ${JSON.stringify(workers)}`);
      await sleep(100);
    }
    const supervisor = ws.supervisorPid();
    assert.ok(supervisor);
    process.kill(supervisor, "SIGKILL");
    for (const w of await list()) assert.equal(w.state, "lost", w.id);

    // The same id twice on one command line.
    const once = await ws.json<Resumed>(["resume", twice, twice]);
    assert.deepEqual(
      once.resumed.map((r) => [r.id, r.how]),
      [[twice, "thread"]],
    );

    // Two library calls in the same tick, on one connection.
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    try {
      const both = await Promise.allSettled([baton.resume([library]), baton.resume([library])]);
      const won = both.filter((r) => r.status === "fulfilled");
      const lost = both.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      assert.equal(won.length, 1, JSON.stringify(both));
      assert.deepEqual(
        won[0]?.value.map((r) => r.id),
        [library],
      );
      assert.match(
        (lost[0]?.reason as BatonError | undefined)?.message ?? "",
        new RegExp(`worker ${library} is (queued|running), not lost`),
      );
    } finally {
      baton.close();
    }

    // Two terminals at once.
    const runs = await Promise.all([ws.baton(["resume", cli]), ws.baton(["resume", cli])]);
    assert.equal(runs.filter((r) => r.code === 0).length, 1, JSON.stringify(runs));
    const refused = runs.find((r) => r.code !== 0);
    assert.equal(refused?.code, 2);
    assert.match(refused?.stderr ?? "", new RegExp(`worker ${cli} is (queued|running), not lost`));

    const waited = await ws.baton(["wait", ...ids]);
    assert.equal(waited.code, 0, waited.stdout + waited.stderr);
    for (const [index, id] of ids.entries()) {
      const name = names[index]!;
      const result = await ws.json<WorkerResult>(["result", id]);
      assert.equal(result.answer, `${name} finished after resume`);
      assert.equal(result.resumes, 1, `${id} was resumed once`);
      const resumedRequests = ws.model.requests.filter(
        (r) => r.userText.includes(name) && r.userText.includes("previous session was cut off"),
      );
      assert.equal(resumedRequests.length, 1, `${name} continued its thread once`);
    }
  });
});
