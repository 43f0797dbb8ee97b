import assert from "node:assert/strict";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerInfo, WorkerResult } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { waitForState } from "./support/faults.ts";
import { alive, FIXTURES, Workspace } from "./support/harness.ts";

// What a hijacked writer that is not confined (--unconfined, or a backend's bug) could do to the run
// store: plant symbolic links where the supervisor writes, and edit other workers' results. Nothing
// planted is followed, nothing outside the store is written, the supervisor stays up, every worker
// still gets its outcome, and `ls` reports what changed under the supervisor.

const COUNT = join(FIXTURES, "count-agent.sh");
const INTERACTIVE = join(FIXTURES, "interactive-agent.mjs");
const PLANT = join(FIXTURES, "plant-agent.mjs");

type Action = ["link" | "hardlink" | "write", string, string];

/** A prompt for plant-agent.mjs: the actions, as its last line. */
const plantPrompt = (actions: Action[], wait = false) => `plant\n${JSON.stringify({ wait, actions })}`;

interface Listing {
  workers: (WorkerInfo & { damage?: { file: string; what: string }[] })[];
}

describe("a run store a worker tampers with", () => {
  let ws: Workspace;
  let outside: string;
  const victims: string[] = [];
  const UNTOUCHED = "untouched\n";

  /** A file outside the store that a planted link points at; it must never change. */
  const victim = (name: string) => {
    const path = join(outside, name);
    writeFileSync(path, UNTOUCHED);
    victims.push(path);
    return path;
  };
  const spawn = async (args: string[]) => (await ws.ok(["spawn", ...args])).trim();
  const worker = (id: string, name: string) => join(ws.home, "workers", id, name);
  const damageOf = async (id: string) =>
    (await ws.json<Listing>(["ls"])).workers.find((w) => w.id === id)?.damage ?? [];

  before(async () => {
    ws = await Workspace.create(directiveScript());
    outside = join(ws.dir, "outside");
    mkdirSync(outside);
    // A store whose supervisor.log is a link before the supervisor ever starts.
    mkdirSync(join(ws.home, "workers"), { recursive: true });
    chmodSync(ws.home, 0o700);
    symlinkSync(victim("supervisor-log"), join(ws.home, "supervisor.log"));
  });
  after(() => ws.cleanup());

  test("links a writer plants in a queued worker's folder are never written through; the worker still gets its answer", async () => {
    await ws.ok(["ls"]);
    const pid = ws.supervisorPid();
    assert.ok(pid, "the supervisor started with a linked supervisor.log");
    // Two slots: the planter (waiting for its cue) and a reader holding the other, so the target queues.
    const target = "w3";
    const planted = ["transcript.log", "events.jsonl", "status.json", "result.json"];
    const actions: Action[] = planted.map((name) => ["link", worker(target, name), victim(name)]);
    // The answer file is made anew at each attempt and emptied in place after: never another
    // name of some other file.
    actions.push(["hardlink", worker(target, "last-message.txt"), victim("answer")]);
    const planter = await spawn([
      "--max-parallel",
      "2",
      "--unconfined",
      "--write",
      "scratch",
      "--codex-bin",
      PLANT,
      plantPrompt(actions, true),
    ]);
    const holder = await spawn(["--read-only", "--codex-bin", INTERACTIVE, "hold a slot"]);
    assert.equal(await spawn(["--read-only", "--codex-bin", COUNT, "count my prompt"]), target);
    await waitForState(ws, holder, "running");
    await waitForState(ws, target, "queued");

    await ws.ok(["send", planter, "go"]); // plants, then ends: the target starts in its slot
    assert.equal((await ws.baton(["wait", planter, target])).code, 0);
    await ws.ok(["send", holder, "quit"]);
    assert.equal((await ws.baton(["wait", holder])).code, 0);

    for (const path of victims)
      assert.equal(readFileSync(path, "utf8"), UNTOUCHED, `${path} was not written`);
    assert.equal(ws.supervisorPid(), pid, "the same supervisor");
    assert.ok(alive(pid!), "the supervisor stayed up");

    const result = await ws.json<WorkerResult>(["result", target]);
    assert.equal(result.state, "succeeded");
    assert.match(result.answer, /^prompt bytes: \d+$/);
    assert.match(await ws.ok(["logs", target]), /prompt bytes/, "its transcript is a new file in the store");
    assert.ok(lstatSync(worker(target, "result.json")).isFile(), "its own result.json replaced the link");
    const kept = readdirSync(join(ws.home, "workers", target)).filter((n) => n.includes(".damaged-"));
    assert.equal(kept.length, 3, `the planted links are kept aside for a person: ${kept}`);

    const damage = await damageOf(target);
    assert.deepEqual(damage.map((d) => d.file).sort(), [...planted].sort(), JSON.stringify(damage));
    const ls = await ws.baton(["ls"]);
    assert.equal(ls.code, 0);
    assert.match(ls.stderr, /baton: warning: worker w3: store damage: .*transcript\.log is a symbolic link/);
  });

  test("a status is rewritten in place, and never through a hard link a writer puts in its place", async () => {
    const mine = await spawn(["--read-only", "--codex-bin", INTERACTIVE, "hold on"]);
    const target = await spawn(["--read-only", "--codex-bin", INTERACTIVE, "hold on too"]);
    await waitForState(ws, mine, "running");
    await waitForState(ws, target, "running");
    const running = lstatSync(worker(mine, "status.json")).ino;
    await ws.ok(["send", mine, "quit"]);
    assert.equal((await ws.baton(["wait", mine])).code, 0);
    const ended = JSON.parse(readFileSync(worker(mine, "status.json"), "utf8")) as { state: string };
    assert.equal(ended.state, "succeeded", "the rewritten status reads whole, padding and all");
    assert.equal(lstatSync(worker(mine, "status.json")).ino, running, "the same file, rewritten in place");

    const planted = victim("status-hardlink");
    const planter = await spawn([
      "--unconfined",
      "--write",
      "scratch",
      "--codex-bin",
      PLANT,
      plantPrompt([["hardlink", worker(target, "status.json"), planted]]),
    ]);
    assert.equal((await ws.baton(["wait", planter])).code, 0);
    assert.equal(
      lstatSync(worker(target, "status.json")).ino,
      lstatSync(planted).ino,
      "the link was planted",
    );
    await ws.ok(["send", target, "quit"]);
    assert.equal((await ws.baton(["wait", target])).code, 0);
    assert.equal(readFileSync(planted, "utf8"), UNTOUCHED, "the linked file was not written");
    assert.notEqual(
      lstatSync(worker(target, "status.json")).ino,
      lstatSync(planted).ino,
      "replaced, not written",
    );
    const status = JSON.parse(readFileSync(worker(target, "status.json"), "utf8")) as { state: string };
    assert.equal(status.state, "succeeded");
    assert.deepEqual(
      (await damageOf(target)).map((d) => `${d.file} ${d.what}`),
      ["status.json was changed outside Baton"],
    );
  });

  test("a worker folder a writer swaps for a link is never written through; that worker fails, naming the damage", async () => {
    const { workers } = await ws.json<Listing>(["ls"]);
    const next = Math.max(...workers.map((w) => Number(w.id.slice(1)))) + 1;
    const target = `w${next + 2}`;
    const elsewhere = join(outside, "folder");
    mkdirSync(elsewhere);
    const planter = await spawn([
      "--max-parallel",
      "2",
      "--unconfined",
      "--write",
      "scratch",
      "--codex-bin",
      PLANT,
      plantPrompt([["link", join(ws.home, "workers", target), elsewhere]], true),
    ]);
    const holder = await spawn(["--read-only", "--codex-bin", INTERACTIVE, "hold a slot"]);
    assert.equal(await spawn(["--read-only", "--codex-bin", COUNT, "count my prompt"]), target);
    await waitForState(ws, holder, "running");
    await waitForState(ws, target, "queued");

    await ws.ok(["send", planter, "go"]);
    assert.equal((await ws.baton(["wait", target])).code, 1, "the target ends, failed");
    await ws.ok(["send", holder, "quit"]);
    assert.equal((await ws.baton(["wait", planter, holder])).code, 0);

    assert.deepEqual(readdirSync(elsewhere), [], "nothing was made where the link points");
    const run = await ws.baton(["result", target, "--json"]);
    const result = JSON.parse(run.stdout) as WorkerResult;
    assert.equal(result.state, "failed");
    assert.match(
      result.reason?.kind === "spawn_failed" ? result.reason.message : JSON.stringify(result.reason),
      new RegExp(`^store damage: \\.baton/workers/${target} is a symbolic link; Baton will not follow it`),
    );
    assert.notDeepEqual(await damageOf(target), [], "ls reports the damage");
    assert.ok(alive(ws.supervisorPid()!), "the supervisor stayed up");
  });

  test("a result another worker edits is reported by ls as damage; result keeps serving what was recorded", async () => {
    const id = await spawn(["--read-only", "--codex-bin", COUNT, "the real task"]);
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const recorded = await ws.json<WorkerResult>(["result", id]);
    assert.deepEqual(await damageOf(id), [], "no damage before");

    const forged = JSON.stringify({ ...recorded, answer: "FORGED: ship it", state: "succeeded" });
    const status = JSON.parse(readFileSync(worker(id, "status.json"), "utf8")) as Record<string, unknown>;
    const forger = await spawn([
      "--unconfined",
      "--write",
      "scratch",
      "--codex-bin",
      PLANT,
      plantPrompt([
        ["write", worker(id, "result.json"), forged],
        ["write", worker(id, "status.json"), JSON.stringify({ ...status, state: "failed" })],
      ]),
    ]);
    assert.equal((await ws.baton(["wait", forger])).code, 0);
    assert.match(readFileSync(worker(id, "result.json"), "utf8"), /FORGED/, "the file was forged");

    const damage = await damageOf(id);
    assert.deepEqual(damage.map((d) => `${d.file} ${d.what}`).sort(), [
      "result.json was changed outside Baton",
      "status.json was changed outside Baton",
    ]);
    assert.deepEqual(await damageOf(forger), [], "the forger's own files are intact");
    const again = await ws.json<WorkerResult>(["result", id]);
    assert.deepEqual(again, recorded, "result serves what the supervisor recorded, not the file");
    const listing = await ws.json<Listing>(["ls"]);
    assert.equal(listing.workers.find((w) => w.id === id)?.state, "succeeded", "ls keeps the recorded state");
    const human = await ws.baton(["ls"]);
    assert.match(
      human.stderr,
      new RegExp(`baton: warning: worker ${id}: store damage: .*result\\.json was changed outside Baton`),
    );
  });
});
