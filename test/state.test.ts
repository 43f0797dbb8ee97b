import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { refusedMove, WORKER_STATES, type WorkerState } from "../dist/worker/state.js";

// The worker's state machine: every move the state union allows, and every other one refused.
const ALLOWED: Record<WorkerState, readonly WorkerState[]> = {
  queued: ["running", "canceled", "failed", "over_budget", "lost"],
  running: ["succeeded", "failed", "canceled", "timed_out", "over_budget", "lost"],
  succeeded: [],
  failed: [],
  canceled: [],
  timed_out: [],
  over_budget: [],
  lost: ["queued"],
};

describe("worker states", () => {
  test("every allowed move passes, and staying put always does", () => {
    for (const from of WORKER_STATES) {
      assert.equal(refusedMove(from, from), undefined, `${from} -> ${from}`);
      for (const to of ALLOWED[from]) assert.equal(refusedMove(from, to), undefined, `${from} -> ${to}`);
    }
  });

  test("every other move is refused, naming what is allowed", () => {
    let refused = 0;
    for (const from of WORKER_STATES) {
      for (const to of WORKER_STATES) {
        if (from === to || ALLOWED[from].includes(to)) continue;
        const why = refusedMove(from, to);
        assert.match(why ?? "", new RegExp(`^a ${from} worker cannot become ${to} \\(`), `${from} -> ${to}`);
        refused += 1;
      }
    }
    // A finished worker never runs again, and a result never claims queued.
    assert.match(refusedMove("succeeded", "running") ?? "", /ended for good/);
    assert.ok(refusedMove("failed", "queued"));
    assert.equal(refused, 64 - 8 - 12);
  });
});
