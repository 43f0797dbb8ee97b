import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  checkPlan,
  type PlanStep,
  PlanStore,
  type PlanUpdate,
  renderPlan,
  type StepStatus,
} from "../dist/plan/index.js";
import { CLI, type RunResult, runNode } from "./support/harness.ts";

const steps = (...statuses: StepStatus[]): PlanStep[] =>
  statuses.map((status, index) => ({ step: `Step ${index + 1}`, status }));

/** Throws if `work` does not throw a BatonError with `code` whose one-line message matches `pattern`. */
async function assertRejects(work: () => unknown, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(
    async () => work(),
    (error: Error & { code?: string }) => {
      assert.equal(error.name, "BatonError");
      assert.equal(error.code, code);
      assert.doesNotMatch(error.message, /\n/, "one line");
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe("plan rules", () => {
  const cases: { name: string; input: PlanUpdate; rejected?: RegExp; warning?: RegExp }[] = [
    {
      name: "zero in_progress while work remains is rejected",
      input: { plan: steps("completed", "pending", "pending") },
      rejected: /no step is in_progress but 2 are not completed .*mark the step being worked on in_progress/,
    },
    {
      name: "two in_progress are rejected, naming both",
      input: { plan: steps("in_progress", "in_progress", "pending") },
      rejected: /2 steps are in_progress \("Step 1", "Step 2"\): exactly one step may be in_progress/,
    },
    {
      name: "all completed with none in_progress is accepted",
      input: { plan: steps("completed", "completed", "completed") },
    },
    {
      name: "4 steps, one in_progress, is accepted quietly",
      input: { plan: steps("completed", "in_progress", "pending", "pending") },
    },
    {
      name: "2 steps are accepted with a warning",
      input: { plan: steps("in_progress", "pending") },
      warning: /the plan has 2 steps; 3 to 6 is the recommended size/,
    },
    {
      name: "7 steps are accepted with a warning",
      input: { plan: steps("in_progress", "pending", "pending", "pending", "pending", "pending", "pending") },
      warning: /the plan has 7 steps; 3 to 6 is the recommended size/,
    },
    {
      name: "an empty step is rejected",
      input: { plan: [...steps("in_progress", "pending"), { step: "  ", status: "pending" }] },
      rejected: /step 3 is empty/,
    },
    { name: "no steps at all are rejected", input: { plan: [] }, rejected: /at least one step/ },
    {
      name: "an unknown status is rejected, naming the field",
      input: { plan: [{ step: "a", status: "done" as StepStatus }] },
      rejected: /field "plan\[0\]\.status"/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      if (c.rejected) return assertRejects(() => checkPlan(c.input), "usage", c.rejected);
      const { plan, warnings } = checkPlan(c.input);
      assert.deepEqual(plan.steps, c.input.plan);
      if (c.warning) {
        assert.equal(warnings.length, 1);
        assert.match(warnings[0]!, c.warning);
      } else assert.deepEqual(warnings, []);
    });
  }

  test("renders done, doing and to do, explanation on top", () => {
    const { plan } = checkPlan({ explanation: "why", plan: steps("completed", "in_progress", "pending") });
    assert.equal(renderPlan(plan), "why\n\n[x] Step 1\n[>] Step 2\n[ ] Step 3");
  });
});

describe("the plan store", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "baton-plan-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("has no plan until one is set", async () => {
    const store = new PlanStore(join(dir, "empty"));
    assert.equal(await store.show(), undefined);
    assert.deepEqual(await store.history(), []);
    await assertRejects(() => store.advance(), "usage", /no plan yet/);
  });

  test("set starts the first step; advance moves forward and finally completes all", async () => {
    const store = new PlanStore(join(dir, "advance"));
    const set = await store.set(["Scout", "Fix", "Test"], "a parser bug");
    assert.deepEqual(set.warnings, []);
    const statuses = async () => (await store.show())?.steps.map((s) => s.status);
    assert.deepEqual(await statuses(), ["in_progress", "pending", "pending"]);
    await store.advance();
    assert.deepEqual(await statuses(), ["completed", "in_progress", "pending"]);
    await store.advance();
    const last = await store.advance();
    assert.deepEqual(
      last.plan.steps.map((s) => s.status),
      ["completed", "completed", "completed"],
    );
    assert.equal(last.plan.explanation, "a parser bug", "advance keeps the explanation");
    await assertRejects(() => store.advance(), "usage", /every step is already completed/);
  });

  test("every accepted version is kept in the history, a rejected one is not", async () => {
    const store = new PlanStore(join(dir, "history"));
    await store.set(["Scout", "Fix", "Test"]);
    await store.update({ explanation: "changed course", plan: steps("completed", "in_progress", "pending") });
    await assertRejects(
      () => store.update({ plan: steps("in_progress", "in_progress") }),
      "usage",
      /2 steps/,
    );
    await store.advance();
    const history = await store.history();
    assert.equal(history.length, 3);
    assert.equal(history[0]!.steps[0]!.step, "Scout");
    assert.equal(history[1]!.explanation, "changed course");
    assert.deepEqual(history[2], await store.show());
    assert.ok(
      history.every((plan) => !Number.isNaN(Date.parse(plan.updatedAt))),
      "each is timestamped",
    );
  });

  test("a run's plan lives in its own folder, owner-only", async () => {
    const runDir = join(dir, "home", "runs", "r1");
    const store = new PlanStore(runDir);
    await store.set(["Scout", "Fix", "Test"]);
    assert.equal(statSync(runDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(runDir, "plan.json")).mode & 0o777, 0o600);
    assert.equal(statSync(join(runDir, "plan-history.jsonl")).mode & 0o777, 0o600);
    assert.equal(await new PlanStore(join(dir, "home")).show(), undefined, "the workspace plan is apart");
  });

  test("a damaged plan.json is reported as a store error, and set replaces it", async () => {
    const store = new PlanStore(join(dir, "damaged"));
    await store.set(["Scout", "Fix", "Test"]);
    writeFileSync(store.planPath, "{ not json");
    await assertRejects(() => store.show(), "store", /plan\.json is damaged \(not valid JSON\)/);
    await assertRejects(() => store.advance(), "store", /damaged/);
    writeFileSync(store.planPath, JSON.stringify({ steps: steps("pending"), updatedAt: "now" }));
    await assertRejects(
      () => store.show(),
      "store",
      /damaged \(breaks the plan rules: no step is in_progress/,
    );
    await store.set(["Again", "Fix", "Test"]);
    assert.equal((await store.show())?.steps[0]?.step, "Again");
  });

  test("a torn last history line is left out", async () => {
    const store = new PlanStore(join(dir, "torn"));
    await store.set(["Scout", "Fix", "Test"]);
    writeFileSync(store.historyPath, `${readFileSync(store.historyPath, "utf8")}{"steps": [`);
    assert.equal((await store.history()).length, 1);
  });
});

/** One line on stderr, naming the problem, and no stack trace. */
function assertOneLineError(result: RunResult, pattern: RegExp, code: number): void {
  assert.equal(result.code, code, result.stderr);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line: ${JSON.stringify(result.stderr)}`);
  assert.match(lines[0]!, /^baton: /);
  assert.match(lines[0]!, pattern);
}

describe("baton plan", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const baton = (args: readonly string[], input?: string) =>
    runNode([CLI, "plan", ...args], { env, cwd: dir, input });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "baton-plan-cli-"));
    env = { ...process.env, BATON_HOME: join(dir, ".baton") };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("set, show, update and advance round trip without a supervisor", async () => {
    const none = await baton(["show"]);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /no plan yet: set one with `baton plan set STEP...`/);

    const set = await baton(["set", "Scout the code", "Fix", "Test", "--explanation", "a parser bug"]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stderr, "");
    assert.equal(set.stdout, "a parser bug\n\n[>] Scout the code\n[ ] Fix\n[ ] Test\n");

    const update = JSON.stringify({
      explanation: "split the fix",
      plan: [
        { step: "Scout the code", status: "completed" },
        { step: "Fix the lexer", status: "in_progress" },
        { step: "Fix the parser", status: "pending" },
        { step: "Test", status: "pending" },
      ],
    });
    const updated = await baton(["update", "--json"], update);
    assert.equal(updated.code, 0, updated.stderr);
    assert.deepEqual(JSON.parse(updated.stdout).warnings, []);

    const advanced = await baton(["update", "--advance"]);
    assert.equal(
      advanced.stdout,
      "split the fix\n\n[x] Scout the code\n[x] Fix the lexer\n[>] Fix the parser\n[ ] Test\n",
    );

    const shown = JSON.parse((await baton(["show", "--json"])).stdout);
    assert.equal(shown.steps[2].status, "in_progress");
    assert.equal(
      readFileSync(join(dir, ".baton", "plan-history.jsonl"), "utf8")
        .trimEnd()
        .split("\n").length,
      3,
    );
    const alone = await baton([]);
    assert.equal(alone.code, 0);
    assert.match(
      alone.stdout,
      /^Usage: baton plan /,
      "`baton plan` alone prints its help, as every group does",
    );
  });

  test("an unusual size succeeds with a warning on stderr", async () => {
    const result = await baton(["set", "One", "Two"]);
    assert.equal(result.code, 0);
    assert.match(result.stderr, /^baton: warning: the plan has 2 steps; 3 to 6 is the recommended size/);
  });

  test("bad stdin gets a one-line error naming the problem and exit 2", async () => {
    assertOneLineError(await baton(["update"], "{ not json"), /stdin is not valid JSON .*"plan"/, 2);
    assertOneLineError(await baton(["update"], ""), /stdin is empty/, 2);
    assertOneLineError(await baton(["update"], '{"steps": []}'), /unknown field "steps"/, 2);
    assertOneLineError(
      await baton(["update"], '{"plan": [{"step": "a", "status": "done"}]}'),
      /field "plan\[0\]\.status" must be one of "pending", "in_progress", "completed": send /,
      2,
    );
    assertOneLineError(
      await baton(["update"], '{"plan": [{"step": 1, "status": "pending"}]}'),
      /field "plan\[0\]\.step" must be text: send /,
      2,
    );
    assertOneLineError(await baton(["update"], "[1]"), /the plan update value must be an object: send /, 2);
    assertOneLineError(
      await baton(["update"], JSON.stringify({ plan: steps("in_progress", "in_progress", "pending") })),
      /2 steps are in_progress/,
      2,
    );
  });

  test("a damaged plan.json is one line and exit 1", async () => {
    writeFileSync(join(dir, ".baton", "plan.json"), "{");
    assertOneLineError(await baton(["show"]), /plan\.json is damaged/, 1);
  });
});
