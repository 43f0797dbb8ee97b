import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerInfo, WorkerResult } from "../dist/index.js";
import { directiveScript, modelScriptLine, type ScriptStep } from "../dist/scripted-model/index.js";
import {
  fillDisk,
  freeDisk,
  immutable,
  mountTmpfs,
  oneLineError,
  remount,
  stopSupervisor,
  unmount,
  until,
  waitForState,
  workerProcesses,
} from "./support/faults.ts";
import { alive, FIXTURES, Workspace } from "./support/harness.ts";

// The run store under faults: a disk that fills up, a store made read-only, and files damaged by hand.
// Whatever happens, the supervisor stays up, every worker ends in a definite state, results already
// written stay as they were, and the user gets one line that says what is wrong and what to do.

const say = (text: string, ...steps: ScriptStep[]) => `${text}\n${modelScriptLine(steps)}`;
const answer = (text: string): ScriptStep => ({ type: "message", text });
const shell = (command: string): ScriptStep => ({ type: "shell", command });

async function spawn(ws: Workspace, prompt: string, args: string[] = [], env?: NodeJS.ProcessEnv) {
  const run = await ws.baton(["spawn", ...args, prompt], env ? { env } : {});
  assert.equal(run.code, 0, `spawn failed: ${run.stderr}`);
  return run.stdout.trim();
}

/** `baton result ID --json`, whatever the worker's state. */
async function resultOf(ws: Workspace, id: string): Promise<WorkerResult> {
  const run = await ws.baton(["result", id, "--json"]);
  assert.ok(run.stdout, `result ${id} printed nothing: ${run.stderr}`);
  return JSON.parse(run.stdout) as WorkerResult;
}

const workerFile = (ws: Workspace, id: string, name: string) => join(ws.home, "workers", id, name);
const warnings = (stderr: string) => stderr.split("\n").filter((line) => line.startsWith("baton: warning: "));

describe("a run store on a disk that fills up", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
    mkdirSync(ws.home, { mode: 0o700 });
    mountTmpfs(ws.home, 512);
  });
  after(async () => {
    try {
      await stopSupervisor(ws);
    } finally {
      unmount(ws.home);
      await ws.cleanup();
    }
  });

  test("a disk that fills during a worker's run: the worker ends definitely, nothing written is lost", async () => {
    const earlier = [
      await spawn(ws, say("first", answer("a1"))),
      await spawn(ws, say("second", answer("a2"))),
    ];
    assert.equal((await ws.baton(["wait", ...earlier])).code, 0);
    const written = earlier.map((id) => readFileSync(workerFile(ws, id, "result.json"), "utf8"));
    const supervisor = ws.supervisorPid();

    // Output after the disk is full needs new blocks: its writes fail, and the worker goes on.
    const id = await spawn(
      ws,
      say("slow", shell("sleep 2; head -c 300000 /dev/zero | tr '\\0' x"), answer("a3")),
    );
    await until("the worker has started its command", () =>
      readFileSync(workerFile(ws, id, "transcript.log"), "utf8").includes("command_execution"),
    );
    const filler = fillDisk(ws.home);
    let inMemory: WorkerResult;
    try {
      const waited = await ws.baton(["wait", id, "--json"]);
      const state = (JSON.parse(waited.stdout) as { workers: WorkerInfo[] }).workers[0]?.state;
      assert.ok(state && !["queued", "running"].includes(state), `ended in a definite state, not ${state}`);
      // codex itself fails (exit 1) when it cannot write its last-message file into the full store.
      inMemory = await resultOf(ws, id);
      assert.equal(inMemory.state, state);
      assert.equal(inMemory.answer.trim(), "a3", "the answer is kept though the disk is full");
      // Removing the worker's temporary folder at its end may free just enough room for its result:
      // then it is there whole, else not at all.
      const onDisk = statSafe(workerFile(ws, id, "result.json"))
        ? (JSON.parse(readFileSync(workerFile(ws, id, "result.json"), "utf8")) as WorkerResult)
        : undefined;
      if (onDisk) assert.deepEqual(onDisk, inMemory, "no result was half-written");

      const listing = await ws.baton(["ls"]);
      assert.equal(listing.code, 0);
      assert.match(listing.stdout, new RegExp(`${id} .* ${state}`));
      const about = warnings(listing.stderr).filter((line) => line.includes(`worker ${id}:`));
      assert.ok(
        about.length >= 1 && about.length <= 4,
        `a few lines about ${id}, not one per write:\n${about.join("\n")}`,
      );
      if (!onDisk)
        assert.ok(
          about.some((line) => /held in memory only: .*is on a full disk.*free some space/.test(line)),
        );

      const refused = await ws.baton(["spawn", say("no room", answer("x"))]);
      assert.equal(refused.code, 1);
      assert.match(oneLineError(refused.stderr), /run store .* is on a full disk .*: free some space on it/);
      assert.deepEqual(
        readdirSync(join(ws.home, "workers")).sort(),
        [...earlier, id].sort(),
        "a refused spawn leaves no half-made worker folder",
      );
      assert.deepEqual(
        earlier.map((w) => readFileSync(workerFile(ws, w, "result.json"), "utf8")),
        written,
        "results written before the disk filled are untouched",
      );
      assert.equal(ws.supervisorPid(), supervisor);
      assert.ok(supervisor && alive(supervisor), "the supervisor is still up");
    } finally {
      freeDisk(filler);
    }

    // With room again, the store works, and the result held in memory is written when the supervisor closes.
    const next = await spawn(ws, say("after", answer("a4")));
    assert.equal((await ws.baton(["wait", next])).code, 0);
    assert.equal((await resultOf(ws, next)).answer.trim(), "a4");
    await stopSupervisor(ws);
    const recorded = JSON.parse(readFileSync(workerFile(ws, id, "result.json"), "utf8")) as WorkerResult;
    assert.deepEqual(recorded, inMemory, "the result written at close is the one held in memory");
    assert.equal(JSON.parse(readFileSync(workerFile(ws, id, "status.json"), "utf8")).state, inMemory.state);
    const reloaded = await ws.json<{ workers: WorkerInfo[] }>(["ls"]);
    assert.equal(
      reloaded.workers.find((w) => w.id === id)?.state,
      inMemory.state,
      "not lost after a restart",
    );
    assert.deepEqual(await resultOf(ws, id), inMemory);
  });

  test("a worker that fills the disk itself ends with its answer, and its transcript cursor stays true", async () => {
    const env = { ...ws.env, FLOOD_BYTES: String(2 * 1024 * 1024), FLOOD_EXIT: "1" };
    const id = await spawn(ws, "flood", ["--codex-bin", join(FIXTURES, "flood-agent.mjs")], env);
    const waited = await ws.baton(["wait", id]);
    assert.equal(waited.code, 0, waited.stdout + waited.stderr);
    const result = await resultOf(ws, id);
    assert.match(
      result.answer,
      /^flooded [0-9]+ lines$/,
      "the answer got through though the transcript did not",
    );
    const transcript = workerFile(ws, id, "transcript.log");
    assert.ok(statSync(transcript).size < 2 * 1024 * 1024, "the disk did fill up");
    const poll = await ws.json<{ cursor: number }>(["poll", id, "--since", "0", "--max-bytes", "100"]);
    assert.equal(poll.cursor, statSync(transcript).size, "the cursor is the transcript's real end");
    const listing = await ws.baton(["ls"]);
    assert.ok(
      warnings(listing.stderr).some((line) =>
        new RegExp(`worker ${id}: its transcript is incomplete: .*full disk`).test(line),
      ),
      listing.stderr,
    );
    rmSync(transcript); // make room again for the other tests' supervisor
  });
});

describe("a run store made read-only", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
    mkdirSync(ws.home, { mode: 0o700 });
    mountTmpfs(ws.home, 1024);
  });
  after(async () => {
    try {
      await stopSupervisor(ws);
    } finally {
      try {
        immutable(join(ws.home, "workers"), false);
      } catch {}
      unmount(ws.home);
      await ws.cleanup();
    }
  });

  test("remounted read-only: spawn says so in one line, reading still works, nothing is lost", async () => {
    const id = await spawn(ws, say("before", answer("b1")));
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const written = readFileSync(workerFile(ws, id, "result.json"), "utf8");
    const supervisor = ws.supervisorPid();
    remount(ws.home, "ro");
    try {
      const refused = await ws.baton(["spawn", say("refused", answer("x"))]);
      assert.equal(refused.code, 1);
      assert.match(oneLineError(refused.stderr), /run store .* is not writable .*: make it writable/);
      assert.equal((await resultOf(ws, id)).answer.trim(), "b1");
      assert.equal((await ws.baton(["poll", id, "--since", "0"])).code, 0);
      assert.equal((await ws.baton(["ls"])).code, 0);
      assert.ok(supervisor && alive(supervisor), "the supervisor is still up");

      // No supervisor can run on a read-only store: a new one is refused in one line, not half-started.
      await stopSupervisor(ws);
      const cold = await ws.baton(["ls"]);
      assert.equal(cold.code, 1);
      assert.match(oneLineError(cold.stderr), /run store .* is not writable: make it writable/);
    } finally {
      remount(ws.home, "rw");
    }
    assert.equal(readFileSync(workerFile(ws, id, "result.json"), "utf8"), written);
    const again = await spawn(ws, say("after", answer("b2")));
    assert.equal((await ws.baton(["wait", again])).code, 0);
    assert.equal((await resultOf(ws, id)).answer.trim(), "b1");
  });

  test("a worker's folder made immutable while it runs: it ends definitely and is recorded once it can be", async () => {
    const other = await spawn(ws, say("other", answer("c0")));
    assert.equal((await ws.baton(["wait", other])).code, 0);
    const otherResult = readFileSync(workerFile(ws, other, "result.json"), "utf8");
    const id = await spawn(ws, say("locked", shell("sleep 2"), answer("c1")));
    await until("the worker has started its command", () =>
      readFileSync(workerFile(ws, id, "transcript.log"), "utf8").includes("command_execution"),
    );
    const dir = join(ws.home, "workers", id);
    immutable(dir, true);
    try {
      const waited = await ws.baton(["wait", id]);
      assert.equal(waited.code, 0, waited.stdout + waited.stderr);
      assert.equal((await resultOf(ws, id)).answer.trim(), "c1");
      assert.equal(statSafe(join(dir, "result.json")), undefined);
      const listing = await ws.baton(["ls"]);
      assert.ok(
        warnings(listing.stderr).some((line) =>
          new RegExp(
            `worker ${id}: its result is held in memory only: .*not writable \\(workers/${id}/result.json\\)`,
          ).test(line),
        ),
        listing.stderr,
      );
      assert.equal(readFileSync(workerFile(ws, other, "result.json"), "utf8"), otherResult);
    } finally {
      immutable(dir, false);
    }
    await stopSupervisor(ws);
    assert.equal(
      (JSON.parse(readFileSync(join(dir, "result.json"), "utf8")) as WorkerResult).answer.trim(),
      "c1",
    );
    const reloaded = await ws.json<{ workers: WorkerInfo[] }>(["ls"]);
    assert.equal(reloaded.workers.find((w) => w.id === id)?.state, "succeeded");
  });
});

type Damage = "truncated" | "garbage" | "empty" | "directory";
const DAMAGES: readonly Damage[] = ["truncated", "garbage", "empty", "directory"];

/** Damages `path` by hand, as a crash or a careless edit would. */
function damage(path: string, how: Damage): void {
  const text = readFileSync(path);
  rmSync(path);
  if (how === "directory") mkdirSync(path);
  else if (how === "truncated") writeFileSync(path, text.subarray(0, Math.floor(text.length / 2)));
  else if (how === "garbage") writeFileSync(path, Buffer.from([0, 0xff, 0xfe, 0x7b, 0x22, 0x0a, 0x01]));
  else writeFileSync(path, "");
}

function statSafe(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

interface Case {
  readonly file: string;
  readonly how: Damage;
  id: string;
}

describe("a run store damaged by hand", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(async () => {
    const ids = statSafe(join(ws.home, "workers")) ? readdirSync(join(ws.home, "workers")) : [];
    for (const pid of ids.flatMap((id) => workerProcesses(ws, id))) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await ws.cleanup();
  });

  test("finished workers: ls, result and poll report the damage in one line; the others are unaffected", async () => {
    await ws.ok(["config", "--max-parallel", "6"]);
    const cases: Case[] = [];
    for (const file of ["spec.json", "status.json", "result.json", "events.jsonl"])
      for (const how of DAMAGES) cases.push({ file, how, id: "" });
    cases.push({ file: "transcript.log", how: "directory", id: "" });
    for (const [i, c] of cases.entries()) c.id = await spawn(ws, say(`case ${i}`, answer(`answer ${i}`)));
    const control = await spawn(ws, say("control", answer("control answer")));
    const all = [...cases.map((c) => c.id), control];
    assert.equal((await ws.baton(["wait", ...all])).code, 0);
    const before = new Map(all.map((id) => [id, readFileSync(workerFile(ws, id, "result.json"), "utf8")]));

    await stopSupervisor(ws);
    for (const c of cases) damage(workerFile(ws, c.id, c.file), c.how);

    const listing = await ws.baton(["ls"]);
    assert.equal(listing.code, 0, listing.stderr);
    const supervisor = ws.supervisorPid();
    assert.doesNotMatch(listing.stderr, /internal error|unexpected error|\n\s+at /);
    const shown = new Map((await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers.map((w) => [w.id, w]));
    for (const [i, c] of cases.entries()) {
      const what = `${c.file} ${c.how} (${c.id})`;
      const lines = warnings(listing.stderr).filter((line) => line.includes(`worker ${c.id}:`));
      const result = await ws.baton(["result", c.id]);
      const poll = await ws.baton(["poll", c.id, "--since", "0"]);
      if (c.file === "spec.json") {
        assert.equal(shown.get(c.id), undefined, `${what}: left out of the table`);
        assert.ok(
          lines.some((line) => line.includes(`${c.id}/spec.json`)),
          `${what}: ls names the file`,
        );
        for (const run of [result, poll]) {
          assert.equal(run.code, 1, what);
          assert.match(
            oneLineError(run.stderr),
            new RegExp(`worker ${c.id} cannot be read: .*spec.json.*: restore`),
          );
        }
        continue;
      }
      assert.equal(shown.get(c.id)?.state, "succeeded", `${what}: listed with its real state`);
      if (c.file === "result.json") {
        assert.ok(
          lines.some((line) => line.includes(`${c.id}/result.json`)),
          `${what}: ls names the file`,
        );
        assert.equal(result.code, 1, what);
        assert.match(
          oneLineError(result.stderr),
          new RegExp(`result of worker ${c.id} cannot be read: .*result.json`),
        );
        assert.equal(poll.code, 0, `${what}: poll still works`);
        continue;
      }
      assert.equal(result.code, 0, `${what}: ${result.stderr}`);
      assert.equal(result.stdout.trim(), `answer ${i}`, what);
      assert.equal(readFileSync(workerFile(ws, c.id, "result.json"), "utf8"), before.get(c.id), what);
      if (c.file === "status.json") {
        assert.ok(
          lines.some((line) => line.includes(`${c.id}/status.json`)),
          `${what}: ls names the file`,
        );
        if (c.how !== "directory") {
          const status = JSON.parse(readFileSync(workerFile(ws, c.id, "status.json"), "utf8"));
          assert.equal(status.state, "succeeded", `${what}: rebuilt from the result`);
        }
      } else if (c.file === "events.jsonl") {
        assert.deepEqual(lines, [], `${what}: nothing reads the events back, so nothing to report`);
      }
      if (c.file === "transcript.log") {
        assert.equal(poll.code, 1, what);
        assert.match(oneLineError(poll.stderr), new RegExp(`${c.id}/transcript.log is not a file`));
      } else {
        assert.equal(poll.code, 0, `${what}: ${poll.stderr}`);
      }
    }
    assert.equal((await ws.baton(["result", control])).stdout.trim(), "control answer");
    for (const id of all) {
      if (cases.find((c) => c.id === id)?.file === "result.json") continue;
      assert.equal(
        readFileSync(workerFile(ws, id, "result.json"), "utf8"),
        before.get(id),
        `${id} result intact`,
      );
    }
    const fresh = await spawn(ws, say("fresh", answer("fresh answer")));
    assert.equal(Number(fresh.slice(1)), Number(control.slice(1)) + 1, "ids go on after the damaged ones");
    assert.equal((await ws.baton(["wait", fresh])).code, 0);
    assert.equal((await ws.baton(["result", fresh])).stdout.trim(), "fresh answer");
    assert.equal(ws.supervisorPid(), supervisor, "the supervisor never went down");
    assert.ok(supervisor && alive(supervisor));
  });

  test("running workers, live supervisor: files damaged mid-run are survived; each worker still ends", async () => {
    const cases: Case[] = [
      { file: "status.json", how: "garbage", id: "" },
      { file: "status.json", how: "directory", id: "" },
      { file: "spec.json", how: "garbage", id: "" },
      { file: "spec.json", how: "directory", id: "" },
      { file: "events.jsonl", how: "truncated", id: "" },
      { file: "events.jsonl", how: "directory", id: "" },
      { file: "transcript.log", how: "empty", id: "" },
      { file: "transcript.log", how: "directory", id: "" },
    ];
    await ws.ok(["config", "--max-parallel", String(cases.length + 1)]);
    const supervisor = ws.supervisorPid();
    for (const [i, c] of cases.entries())
      c.id = await spawn(ws, say(`live ${i}`, shell("sleep 4"), answer(`live answer ${i}`)));
    const control = await spawn(ws, say("live control", shell("sleep 4"), answer("live control answer")));
    const all = [...cases.map((c) => c.id), control];
    const read = (id: string, name: string) => {
      try {
        return readFileSync(workerFile(ws, id, name), "utf8");
      } catch (error) {
        return `(${(error as Error).message})`;
      }
    };
    for (const id of all) {
      await until(`${id} runs its command`, () =>
        read(id, "transcript.log").includes('"command_execution"'),
      ).catch((error: Error) => {
        // What the worker did meanwhile goes with the failure: the test's folder is gone afterwards.
        const shown = ["status.json", "events.jsonl", "transcript.log"].map(
          (f) => `${f}: ${read(id, f).slice(-2000)}`,
        );
        throw new Error(`${error.message}\n${shown.join("\n")}`);
      });
    }
    for (const c of cases) damage(workerFile(ws, c.id, c.file), c.how);

    const waited = await ws.baton(["wait", ...all, "--timeout", "120"]);
    assert.notEqual(waited.code, 124, `every worker ended: ${waited.stdout}${waited.stderr}`);
    assert.equal(ws.supervisorPid(), supervisor, "the supervisor never went down");
    assert.ok(supervisor && alive(supervisor));
    const listing = await ws.baton(["ls"]);
    assert.equal(listing.code, 0, listing.stderr);
    assert.doesNotMatch(listing.stderr, /internal error|unexpected error|\n\s+at /);
    const shown = new Map((await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers.map((w) => [w.id, w]));
    for (const [i, c] of cases.entries()) {
      const what = `${c.file} ${c.how} (${c.id})`;
      assert.ok(
        ["succeeded", "failed"].includes(shown.get(c.id)?.state ?? ""),
        `${what}: ended definitely, got ${shown.get(c.id)?.state}`,
      );
      const result = await ws.baton(["result", c.id]);
      if (result.code === 0) assert.equal(result.stdout.trim(), `live answer ${i}`, what);
      else assert.equal(result.stderr.trim().split("\n").length, 1, `${what}: one line: ${result.stderr}`);
    }
    for (const c of cases.filter((c) => c.how !== "directory")) {
      // Damage the supervisor can write over costs nothing: the worker's answer is whole.
      assert.equal(
        (await ws.baton(["result", c.id])).stdout.trim(),
        `live answer ${cases.indexOf(c)}`,
        c.file,
      );
    }
    assert.equal(shown.get(control)?.state, "succeeded");
    assert.equal((await ws.baton(["result", control])).stdout.trim(), "live control answer");
  });

  test("workers recovered after the supervisor died: damage is reported, leftovers are stopped", async () => {
    const hupProof = join(FIXTURES, "hup-proof-agent.sh");
    await ws.ok(["config", "--max-parallel", "32"]);
    const fixtures: Case[] = [];
    for (const file of ["spec.json", "status.json"])
      for (const how of DAMAGES) fixtures.push({ file, how, id: "" });
    fixtures.push(
      { file: "result.json", how: "garbage", id: "" },
      { file: "result.json", how: "directory", id: "" },
    );
    for (const c of fixtures) c.id = await spawn(ws, `hold ${c.file}`, ["--codex-bin", hupProof]);
    const codex: Case[] = DAMAGES.map((how) => ({ file: "events.jsonl", how, id: "" }));
    for (const c of codex) c.id = await spawn(ws, say(`stall ${c.how}`, { type: "stall" }));
    const controls = [
      await spawn(ws, "control", ["--codex-bin", hupProof]),
      await spawn(ws, say("stall", { type: "stall" })),
    ];
    const all = [...fixtures, ...codex].map((c) => c.id).concat(controls);
    for (const id of all) await waitForState(ws, id, "running");
    for (const c of [...codex, { id: controls[1]! }])
      await until(
        `${c.id} has events`,
        () => (statSafe(workerFile(ws, c.id, "events.jsonl"))?.size ?? 0) > 0,
      );

    const supervisor = ws.supervisorPid()!;
    process.kill(supervisor, "SIGKILL");
    await until("the supervisor is gone", () => !alive(supervisor));
    for (const c of fixtures) {
      if (c.file === "result.json") writeFileSync(workerFile(ws, c.id, c.file), "{}");
      damage(workerFile(ws, c.id, c.file), c.how);
    }
    for (const c of codex) damage(workerFile(ws, c.id, c.file), c.how);
    const survivors = fixtures.map((c) => c.id).concat(controls[0]!);
    assert.ok(
      survivors.every((id) => workerProcesses(ws, id).length > 0),
      "the agents outlived their supervisor",
    );

    const listing = await ws.baton(["ls"]);
    assert.equal(listing.code, 0, listing.stderr);
    assert.doesNotMatch(listing.stderr, /internal error|unexpected error|\n\s+at /);
    await until(
      "no agent of a dead supervisor is left",
      () => all.every((id) => workerProcesses(ws, id).length === 0),
      5_000,
    );
    const shown = new Map((await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers.map((w) => [w.id, w]));
    for (const c of [...fixtures, ...codex]) {
      const what = `${c.file} ${c.how} (${c.id})`;
      const lines = warnings(listing.stderr).filter((line) => line.includes(`worker ${c.id}:`));
      const result = await ws.baton(["result", c.id]);
      if (c.file === "spec.json") {
        assert.equal(shown.get(c.id), undefined, what);
        assert.ok(
          lines.some((line) => line.includes(`${c.id}/spec.json`)),
          `${what}: ls names the file`,
        );
        assert.match(oneLineError(result.stderr), new RegExp(`worker ${c.id} cannot be read: .*spec.json`));
        continue;
      }
      assert.equal(shown.get(c.id)?.state, "lost", `${what}: a worker whose supervisor died is lost`);
      assert.equal(shown.get(c.id)?.reason?.kind, "supervisor_lost", what);
      assert.equal(result.code, 1, what);
      if (c.file === "result.json") {
        assert.match(
          oneLineError(result.stderr),
          new RegExp(`result of worker ${c.id} cannot be read: .*result.json`),
        );
      } else {
        assert.match(oneLineError(result.stderr), new RegExp(`worker ${c.id} lost: its supervisor died`));
      }
      if (c.file !== "events.jsonl") assert.ok(lines.length > 0, `${what}: ls names the damage`);
      assert.equal((await ws.baton(["poll", c.id])).code, 0, `${what}: poll works`);
    }
    for (const id of controls) assert.equal(shown.get(id)?.state, "lost");
    const fresh = await spawn(ws, say("fresh", answer("after the crash")));
    assert.equal((await ws.baton(["wait", fresh])).code, 0);
    assert.equal((await ws.baton(["result", fresh])).stdout.trim(), "after the crash");
  });
});
