import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { BatonEvent } from "../dist/events/types.js";
import { DEFAULT_GRACE_SECONDS } from "../dist/protocol/limits.js";
import { Store } from "../dist/store/store.js";
import { retryDelayMs } from "../dist/supervisor/attempts.js";
import { EXIT_AFTER_ANSWER_GRACE_MS, EXIT_AFTER_ANSWER_SECONDS } from "../dist/supervisor/run-end.js";
import { Supervisor } from "../dist/supervisor/supervisor.js";
import { ManualClock } from "./support/clock.ts";
import { FIXTURES } from "./support/harness.ts";

// Time is injectable: a supervisor given a clock the test moves by hand waits a retry's backoff (1 s,
// then 2 s) and a stop's grace period (Ctrl+C, SIGTERM, SIGKILL) on that clock, so none of it takes
// real seconds. The real supervisor, the real attempts and real fixture agents in real terminals.

/** A supervisor of its own, in process, on a manual clock. */
class Rig {
  private seen = 0;
  readonly events: BatonEvent[] = [];

  private constructor(
    readonly dir: string,
    readonly supervisor: Supervisor,
    readonly clock: ManualClock,
  ) {}

  static async create(): Promise<Rig> {
    const dir = mkdtempSync(join(tmpdir(), "baton-clock-"));
    const store = await Store.open(join(dir, ".baton"));
    const clock = new ManualClock();
    return new Rig(dir, await Supervisor.load(store, { clock }), clock);
  }

  spawn(
    bin: string,
    more: {
      retries?: number;
      idleTimeoutSeconds?: number;
      env?: Record<string, string>;
      backend?: string;
    } = {},
  ): Promise<{ id: string }> {
    return this.supervisor.spawn({
      task: "answer",
      cwd: this.dir,
      bin,
      ...(more.backend ? { backend: more.backend } : {}),
      unconfined: true,
      retries: more.retries ?? 2,
      ...(more.idleTimeoutSeconds ? { idleTimeoutSeconds: more.idleTimeoutSeconds } : {}),
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: this.dir, ...more.env },
    });
  }

  /** Waits (in real time, at most `ms`) until an event matching `wanted` has been emitted. */
  async until(wanted: (event: BatonEvent) => boolean, ms = 20_000): Promise<BatonEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.events.find(wanted);
      if (found) return found;
      const left = deadline - Date.now();
      assert.ok(left > 0, `no such event; saw: ${this.events.map((e) => e.type).join(", ")}`);
      const batch = await this.supervisor.events.next(this.seen, { waitMs: left });
      this.events.push(...batch.events);
      this.seen = batch.next;
    }
  }

  /** Every event emitted so far, after giving the supervisor `ms` of real time to emit more. */
  async settle(ms: number): Promise<BatonEvent[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    const batch = this.supervisor.events.after(this.seen);
    this.events.push(...batch.events);
    this.seen = batch.next;
    return this.events;
  }

  /** The clock's pending timers, once there are some (the backoff is set just after the retry event). */
  async timers(): Promise<number[]> {
    const deadline = Date.now() + 5_000;
    while (this.clock.pending.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    return this.clock.pending;
  }

  async close(): Promise<void> {
    await this.supervisor.close(0);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const started = (attempt: number) => (e: BatonEvent) => e.type === "started" && e.attempt === attempt;
const retried = (retry: number) => (e: BatonEvent) => e.type === "retry" && e.retry === retry;
const ended = (e: BatonEvent) => e.type === "state" && !["queued", "running"].includes(e.to);

describe("time is injectable", () => {
  test("the backoff is 1 s, 2 s, 4 s, ... capped at 30 s", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(retryDelayMs), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  describe("retries wait their backoff on the supervisor's clock", () => {
    let rig: Rig;
    before(async () => {
      rig = await Rig.create();
    });
    after(() => rig.close());

    test("a retry starts only once the clock has passed its backoff, and the third attempt's answer is the result", async () => {
      const count = join(rig.dir, "attempts");
      const { id } = await rig.spawn(join(FIXTURES, "flaky-agent.sh"), { env: { FLAKY_COUNT: count } });
      await rig.until(retried(1));
      // The first retry waits 1 s on the clock: none of it passes in real time.
      assert.deepEqual(await rig.timers(), [1000], "one timer: the backoff");
      assert.ok(!(await rig.settle(300)).some(started(2)), "no second attempt before the clock moves");
      rig.clock.advance(999);
      assert.ok(!(await rig.settle(100)).some(started(2)), "nor 1 ms before the backoff ends");
      rig.clock.advance(1);
      await rig.until(started(2));
      await rig.until(retried(2));
      assert.deepEqual(await rig.timers(), [2000], "the second retry waits 2 s");
      rig.clock.advance(1999);
      assert.ok(!(await rig.settle(100)).some(started(3)));
      rig.clock.advance(1);
      await rig.until(started(3));
      const end = await rig.until(ended);
      assert.equal(end.type === "state" && end.to, "succeeded");
      const result = await rig.supervisor.result(id);
      assert.equal(result.answer, "answered on attempt 3");
      assert.equal(result.retries, 2);
    });

    test("a stop during the backoff ends the worker at once, canceled, without moving the clock", async () => {
      const count = join(rig.dir, "stop-attempts");
      const { id } = await rig.spawn(join(FIXTURES, "flaky-agent.sh"), { env: { FLAKY_COUNT: count } });
      await rig.until((e) => retried(1)(e) && e.type === "retry" && e.worker === id);
      const before = rig.clock.now();
      assert.deepEqual(await rig.supervisor.stop({ ids: [id] }), [id]);
      assert.equal(rig.clock.now(), before);
      const result = await rig.supervisor.result(id);
      assert.equal(result.state, "canceled");
      assert.deepEqual(result.reason, { kind: "stopped", by: "user", via: "stop" });
      assert.equal(result.retries, 1);
      assert.ok(
        !(await rig.settle(100)).some((e) => started(2)(e) && e.type === "started" && e.worker === id),
      );
    });
  });

  describe("watchdogs and a stop's grace period run on the supervisor's clock", () => {
    let rig: Rig;
    before(async () => {
      rig = await Rig.create();
    });
    after(() => rig.close());

    test("an agent that ignores Ctrl+C and SIGTERM is killed only once the clock passes twice the grace period", async () => {
      const { id } = await rig.spawn(join(FIXTURES, "stubborn-agent.sh"), { retries: 0 });
      await rig.until((e) => e.type === "output" && e.worker === id);
      const stopped = rig.supervisor.stop({ ids: [id], graceSeconds: 3 });
      const state = () => rig.supervisor.list().find((w) => w.id === id)?.state;
      await rig.settle(300);
      assert.equal(state(), "running", "Ctrl+C is ignored, and no time has passed");
      rig.clock.advance(3000);
      await rig.settle(300);
      assert.equal(state(), "running", "SIGTERM after 3 s is ignored too");
      rig.clock.advance(3000);
      assert.deepEqual(await stopped, [id], "SIGKILL after 6 s ends it");
      assert.equal(state(), "canceled");
    });

    test("an agent that answers and then neither ends nor prints is stopped 5 s later, and its answer stands, not retried", async () => {
      assert.equal(EXIT_AFTER_ANSWER_SECONDS, 5);
      const { id } = await rig.spawn(join(FIXTURES, "answer-then-hang.sh"), { retries: 2 });
      // Its usage comes with its turn's end: the answer has been read, and the shorter watch set.
      await rig.until((e) => e.type === "usage" && e.worker === id);
      assert.equal(rig.clock.pending[0], 5_000, "the idle timeout (600 s) gave way to 5 s");
      const state = () => rig.supervisor.list().find((w) => w.id === id)?.state;
      rig.clock.advance(4_999);
      await rig.settle(200);
      assert.equal(state(), "running", "not before 5 s");
      rig.clock.advance(1);
      await rig.settle(200);
      assert.equal(state(), "running", "it ignores Ctrl+C");
      rig.clock.advance(EXIT_AFTER_ANSWER_GRACE_MS - 1);
      await rig.settle(200);
      assert.equal(state(), "running", "SIGTERM comes 1 s after Ctrl+C, not before");
      assert.ok(
        EXIT_AFTER_ANSWER_GRACE_MS < DEFAULT_GRACE_SECONDS * 1000,
        "sooner than a stop's grace period",
      );
      rig.clock.advance(1);
      const end = await rig.until((e) => ended(e) && e.type === "state" && e.worker === id);
      assert.equal(end.type === "state" && end.to, "succeeded");
      const result = await rig.supervisor.result(id);
      assert.equal(result.answer, "done: hanging");
      assert.equal(result.exitCode, 0);
      assert.equal(result.reason, undefined);
      assert.equal(result.retries, 0);
      assert.ok(
        !rig.events.some((e) => started(2)(e) && e.type === "started" && e.worker === id),
        "no retry",
      );
      const transcript = readFileSync(join(rig.dir, ".baton", "workers", id, "transcript.log"), "utf8");
      assert.match(
        transcript,
        /\[baton\] the agent answered, then neither ended nor printed anything for 5s: stopped/,
      );
    });

    test("Claude Code, whose run may take another turn after its result, keeps the idle timeout after it", async () => {
      const { id } = await rig.spawn(join(FIXTURES, "answer-then-hang.sh"), {
        backend: "claude",
        retries: 0,
        env: { HANG_AS: "claude" },
      });
      await rig.until((e) => e.type === "usage" && e.worker === id);
      assert.ok(!rig.clock.pending.includes(5_000), `timers: ${rig.clock.pending.join(", ")}`);
      rig.clock.advance(60_000);
      await rig.settle(200);
      assert.equal(rig.supervisor.list().find((w) => w.id === id)?.state, "running");
      // It ignores Ctrl+C: the stop ends it with SIGTERM once the clock passes the grace period.
      const stopped = rig.supervisor.stop({ ids: [id], graceSeconds: 1 });
      await rig.settle(100);
      rig.clock.advance(1000);
      assert.deepEqual(await stopped, [id]);
    });

    test("the idle watchdog ends a silent agent once the clock passes its idle timeout", async () => {
      const { id } = await rig.spawn(join(FIXTURES, "idle-agent.sh"), { retries: 0, idleTimeoutSeconds: 60 });
      await rig.until((e) => e.type === "started" && e.worker === id);
      await rig.settle(300);
      rig.clock.advance(59_999);
      await rig.settle(200);
      assert.ok(!rig.events.some((e) => e.type === "state" && e.worker === id && e.to === "timed_out"));
      rig.clock.advance(1);
      const end = await rig.until((e) => ended(e) && e.type === "state" && e.worker === id);
      assert.deepEqual(end.type === "state" && [end.to, end.reason], [
        "timed_out",
        { kind: "timeout", limit: "idle", seconds: 60 },
      ]);
    });
  });
});
