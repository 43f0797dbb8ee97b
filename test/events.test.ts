import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { Baton, type BatonEvent } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { CLI, Workspace } from "./support/harness.ts";

// One event stream for the whole workspace: `baton watch` and `Baton.watch` read it from a sequence
// number, so that a reader who reconnects misses nothing and sees nothing twice. Real codex workers
// against the scripted model.

const asking = (name: string, answer: string) =>
  `${name}\n${modelScriptLine([
    { type: "shell", command: "true" },
    { type: "message", text: answer },
  ])}`;

/** A `baton watch` running in the background, its stdout read line by line as it comes. */
class Watcher {
  readonly lines: string[] = [];
  private readonly child: ChildProcess;
  private readonly wakers = new Set<() => void>();
  readonly exited: Promise<number | null>;
  private stderr = "";

  constructor(ws: Workspace, args: readonly string[]) {
    this.child = spawn(process.execPath, [CLI, "watch", ...args], { env: ws.env, cwd: ws.dir });
    let partial = "";
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      this.lines.push(...parts);
      for (const wake of this.wakers) wake();
    });
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
  }

  get events(): BatonEvent[] {
    return this.lines.map((line) => JSON.parse(line) as BatonEvent);
  }

  /** Resolves once `seen` holds for the events printed so far; fails after `ms`. */
  async until(seen: (events: BatonEvent[]) => boolean, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!seen(this.events)) {
      const left = deadline - Date.now();
      if (left <= 0)
        assert.fail(
          `watch did not print what was awaited; it printed:\n${this.lines.join("\n")}\n${this.stderr}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        const wake = () => {
          clearTimeout(timer);
          this.wakers.delete(wake);
          resolve();
        };
        this.wakers.add(wake);
        this.child.once("close", wake);
      });
    }
  }

  async stop(): Promise<void> {
    this.child.kill("SIGTERM");
    await this.exited;
  }
}

const ended = (worker: string) => (events: BatonEvent[]) =>
  events.some((e) => e.type === "state" && e.worker === worker && e.to === "succeeded");

describe("the event stream", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript(() => ({ type: "message", text: "unscripted" })));
  });
  after(() => ws.cleanup());

  test("watch --json delivers queued, running, succeeded in order; a reconnect from the last seq misses and repeats nothing", async () => {
    // From the seq of a snapshot taken before the spawns, as a dashboard does: however late the
    // watcher's process connects, it starts where the snapshot ended.
    const start = await Baton.open({ home: ws.home, env: ws.env });
    const { seq } = await start.list();
    start.close();
    const first = new Watcher(ws, ["--json", "--since", String(seq)]);
    const ids = (
      await ws.ok([
        "spawn",
        "--task",
        asking("one", "first"),
        "--task",
        asking("two", "second"),
        "--task",
        asking("three", "third"),
      ])
    )
      .trim()
      .split("\n");
    assert.equal(ids.length, 3);
    // Cut the first reader off once some worker runs, then go on from the last seq it printed.
    await first.until((events) => events.some((e) => e.type === "state" && e.to === "running"));
    await first.stop();
    const seen = first.events;
    const last = seen.at(-1)!.seq;
    const second = new Watcher(ws, ["--json", "--since", String(last)]);
    await second.until((events) => ids.every((id) => ended(id)([...seen, ...events])));
    await second.stop();
    const together = [...seen, ...second.events];

    const baton = await Baton.open({ home: ws.home, env: ws.env });
    try {
      const kept = await baton.events(0, { max: 1000 });
      const upTo = kept.events.filter((e) => e.seq >= together[0]!.seq && e.seq <= together.at(-1)!.seq);
      assert.deepEqual(
        together.map((e) => e.seq),
        upTo.map((e) => e.seq),
        "the two readers together saw every event of the stream once, in order",
      );
      assert.deepEqual(together, upTo, "and each as the stream has it");
    } finally {
      baton.close();
    }
    for (const id of ids) {
      const moves = together
        .filter((e): e is Extract<BatonEvent, { type: "state" }> => e.type === "state" && e.worker === id)
        .map((e) => `${e.from}>${e.to}`);
      assert.deepEqual(moves, ["new>queued", "queued>running", "running>succeeded"], `${id}'s states`);
      const at = (type: string) =>
        together.findIndex((e) => e.type === type && "worker" in e && e.worker === id);
      assert.ok(
        at("spawned") >= 0 && at("spawned") < at("started"),
        `${id}: spawned, then its agent started`,
      );
      const answer = together.findIndex((e) => e.type === "answer" && e.worker === id);
      const succeeded = together.findIndex(
        (e) => e.type === "state" && e.worker === id && e.to === "succeeded",
      );
      assert.ok(
        answer >= 0 && answer < succeeded,
        `${id}: its answer is recorded before it is announced succeeded`,
      );
      assert.ok(
        together.some((e) => e.type === "output" && e.worker === id && e.bytes > 0),
        `${id}: its output is announced, by size`,
      );
    }
  });

  test("watch ID ends by itself once the worker has ended, and prints readable lines", async () => {
    const [id] = (await ws.ok(["spawn", asking("alone", "done alone")])).trim().split("\n");
    const watcher = new Watcher(ws, [id!]);
    assert.equal(await watcher.exited, 0);
    const text = watcher.lines.join("\n");
    assert.match(text, new RegExp(`#[0-9]+ ${id} succeeded`), text);
  });

  test("sequence numbers go on across a supervisor restart, and older events are read back from the store", async () => {
    const before = await Baton.open({ home: ws.home, env: ws.env });
    const { seq } = await before.list();
    before.close();
    assert.ok(seq > 0);
    await ws.ok(["shutdown"]);
    const [id] = (await ws.ok(["spawn", asking("later", "after the restart")])).trim().split("\n");
    await ws.ok(["wait", id!]);
    const baton = await Baton.open({ home: ws.home, env: ws.env });
    try {
      const batch = await baton.events(0, { max: 1000 });
      const seqs = batch.events.map((e) => e.seq);
      assert.deepEqual(
        seqs,
        Array.from({ length: seqs.length }, (_, i) => i + 1),
        "1, 2, 3, ... with no gap",
      );
      const spawned = batch.events.find((e) => e.type === "spawned" && e.worker === id);
      assert.ok(spawned && spawned.seq > seq, "the new worker's events come after the old ones");
      const mine = await baton.events(seq, { workers: [id!] });
      assert.ok(mine.events.length > 0 && mine.events.every((e) => !("worker" in e) || e.worker === id));
      // Asked for by type: only the worker's moves, each once, in order.
      const moves = await baton.events(seq, { workers: [id!], types: ["state"] });
      assert.deepEqual(
        moves.events.map((e) => (e.type === "state" ? e.to : e.type)),
        ["queued", "running", "succeeded"],
      );
      // From any seq, the events after it and none before, whether kept in memory or read back.
      for (const from of [seqs[1]!, seq, seqs.at(-3)!]) {
        const after = await baton.events(from, { max: 2 });
        assert.deepEqual(
          after.events.map((e) => e.seq),
          [from + 1, from + 2],
        );
      }
      await assert.rejects(baton.events(0, { types: ["nope" as "state"] }), /types/);
    } finally {
      baton.close();
    }
  });

  test("watch refuses a target that is neither a worker nor a run, or a worker that is not there, in one line", async () => {
    const result = await ws.baton(["watch", "bogus"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^baton: watch: "bogus" is neither a worker id/);
    assert.equal(result.stderr.trim().split("\n").length, 1);
    // A worker id that names no worker here: said so, not a silent end.
    const unknown = await ws.baton(["watch", "w999"]);
    assert.notEqual(unknown.code, 0);
    assert.equal(unknown.stderr, 'baton: no worker "w999" in this workspace: see `baton ls`\n');
  });
});
