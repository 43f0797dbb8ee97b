import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SHIPPED_PRICES } from "../dist/cost/prices.js";
import { Baton, type WorkerInfo, type WorkerResult } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { ClaudeWorkspace } from "./support/claude.ts";
import { GeminiWorkspace } from "./support/gemini.ts";
import { busy, processesWithEnv, Workspace } from "./support/harness.ts";

// Dollars per worker, with real agents against scripted models: codex priced by the workspace's own
// `.baton/prices.yaml` (the scripted codex model is "fake-model", as its config.toml names it and its
// rollout log reports), Claude Code by its own total_cost_usd, the Gemini CLI by Baton's table; cost
// budgets that stop spending mid-turn; and a model with no price shown as unpriced, never $0.

/** $1 a thousand input tokens, $2 a thousand output tokens: big enough to cross a budget at once. */
const PRICES = `source: the test's own agreement
date: 2026-10-01
models:
  fake-model: { input: 1000, cachedInput: 100, output: 2000 }
`;
const USER_TABLE = { source: "the test's own agreement", date: "2026-10-01", model: "fake-model" };

type Cost = NonNullable<WorkerResult["cost"]>;
const near = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) < 1e-9;

describe("dollars: codex workers priced by the workspace's prices.yaml", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
    await ws.ok(["ls"]); // the store exists: the price file goes into it
    writeFileSync(join(ws.home, "prices.yaml"), PRICES);
  });
  after(() => ws.cleanup());

  const result = async (id: string) =>
    JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult;
  const listed = async (id: string) =>
    (await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers.find((w) => w.id === id);
  const row = async (id: string) =>
    (await ws.ok(["ls"])).split("\n").find((line) => line.startsWith(`${id} `)) ?? "";
  const leftovers = (id: string) =>
    processesWithEnv(`BATON_WORKER_ID=${id}`).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, "latin1").includes(ws.home);
      } catch {
        return false;
      }
    });

  test("a codex worker's cost comes from the user's table: in its usage events, ls and result --json", async () => {
    const task = `priced\n${modelScriptLine([{ type: "message", text: "priced answer", usage: { input_tokens: 2000, output_tokens: 500 } }])}`;
    const id = (await ws.ok(["spawn", task])).trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const done = await result(id);
    assert.equal(done.model, "fake-model", "the model codex reported it ran");
    // 2,000 input tokens at $1,000 a million, 500 output at $2,000 a million
    const expected: Cost = { usd: 3, source: "user", table: USER_TABLE };
    assert.ok(near(done.cost?.usd, 3), JSON.stringify(done.cost));
    assert.deepEqual({ ...done.cost, usd: 3 }, expected, "the user's table, with its source and date");
    assert.deepEqual((await listed(id))?.cost, done.cost, "ls --json shows what result --json does");
    assert.match(await row(id), /\s2,500\s+\$3\.00\s+0$/, "the table's TOKENS, COST and RETRIES");
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    try {
      const { events } = await baton.events(0, { workers: [id] });
      const usage = events.filter((e) => e.type === "usage");
      const last = usage.at(-1);
      assert.ok(last?.type === "usage" && near(last.cost?.usd, 3), JSON.stringify(last));
    } finally {
      baton.close();
    }
  });

  test("--max-cost stops a worker in the middle of its turn, and says so in dollars", async () => {
    const started = Date.now();
    const task = `big spender\n${modelScriptLine([
      { type: "shell", command: "sleep 60", usage: { input_tokens: 5000, output_tokens: 0 } },
      ...busy(),
    ])}`;
    const id = (await ws.ok(["spawn", "--max-cost", "1", task])).trim();
    await ws.baton(["wait", id]);
    const stopped = await result(id);
    assert.equal(stopped.state, "over_budget", JSON.stringify(stopped.reason));
    const reason = stopped.reason;
    assert.ok(
      reason?.kind === "budget" && reason.unit === "usd" && reason.scope === "worker" && reason.limit === 1,
      JSON.stringify(reason),
    );
    assert.ok(reason.used >= 5, "$5 of input, counted from codex's usage as the turn went on");
    assert.ok((stopped.cost?.usd ?? 0) >= reason.used - 1e-9, "its cost counts what crossed the budget");
    assert.ok(Date.now() - started < 50_000, "stopped long before its command would have ended");
    assert.deepEqual(leftovers(id), []);
    const shown = await ws.baton(["result", id]);
    assert.match(shown.stderr, /over_budget: cost \$5\.\d\d, over its budget of \$1\.00 \(--max-cost\)/);
  });

  test("a model with no price is unpriced, never $0; a cost budget for it is refused in one line", async () => {
    const task = `no price\n${modelScriptLine([{ type: "message", text: "cheap or not" }])}`;
    const id = (await ws.ok(["spawn", "--model", "no-such-model", task])).trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const done = await result(id);
    assert.equal(done.model, "no-such-model");
    assert.equal(done.cost?.source, "unpriced");
    assert.equal(done.cost?.usd, undefined, "no figure, not a zero");
    assert.match(done.cost?.source === "unpriced" ? done.cost.why : "", /no price for model "no-such-model"/);
    assert.match(await row(id), /\s110\s+unpriced\s+0$/);
    // Read back from the store by the next supervisor as it was recorded (JSON has no `usd` key for it).
    await ws.ok(["shutdown"]);
    assert.deepEqual((await result(id)).cost, done.cost);
    assert.match(await row(id), /\s110\s+unpriced\s+0$/);
    const refused = await ws.baton(["spawn", "--model", "no-such-model", "--max-cost", "5", task]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /--max-cost needs a price, and model "no-such-model" has none: give --model with a priced model, or add "no-such-model" to \.baton\/prices\.yaml/,
    );
    assert.equal(refused.stderr.trim().split("\n").length, 1);
  });

  test("--run-max-cost stops every worker of a pattern run; a run that ends says what it cost", async () => {
    // Each reviewer reports $2 of input with its first command, then keeps working.
    const spending = `Review what costs\n${modelScriptLine([{ type: "shell", command: "sleep 60", usage: { input_tokens: 2000, output_tokens: 0 } }, ...busy()])}`;
    const review = ["run", "review", "--lens", "security", "--lens", "correctness", "--json"];
    const ran = await ws.baton([...review, "--run-max-cost", "3", spending]);
    assert.notEqual(ran.code, 0, "the run fails when its reviewers are stopped");
    assert.match(ran.stderr, /review-security over_budget \([^)]*\$\d/, "its progress names the cost");
    const reviewers = (await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers.filter((w) =>
      /:review-/.test(w.label ?? ""),
    );
    assert.equal(reviewers.length, 2, ran.stderr);
    for (const worker of reviewers) {
      const stopped = await result(worker.id);
      assert.equal(stopped.state, "over_budget", `${worker.id}: ${JSON.stringify(stopped.reason)}`);
      assert.ok(
        stopped.reason?.kind === "budget" &&
          stopped.reason.scope === "run" &&
          stopped.reason.unit === "usd" &&
          stopped.reason.limit === 3,
        `${worker.id}: ${JSON.stringify(stopped.reason)}`,
      );
      assert.deepEqual(leftovers(worker.id), []);
    }
    const shown = await ws.baton(["result", reviewers[0]!.id]);
    assert.match(
      shown.stderr,
      /its run cost \$\d\.\d\d, over the run's budget of \$3\.00 \(--run-max-cost\)/,
    );

    // A run within its budget ends with its workers' tokens and dollars together.
    const answer = JSON.stringify({ summary: "nothing found", findings: [] });
    const cheap = `Review cheaply\n${modelScriptLine([{ type: "message", text: answer, usage: { input_tokens: 1000, output_tokens: 0 } }])}`;
    const fine = await ws.baton([...review, "--run-max-cost", "10", cheap]);
    assert.equal(fine.code, 0, fine.stderr);
    const out = JSON.parse(fine.stdout) as { run: string; spent: { usd: number; workers: number } };
    assert.ok(out.spent.workers >= 2 && out.spent.usd >= 2, JSON.stringify(out.spent));
    assert.match(
      fine.stderr,
      new RegExp(`run ${out.run}: \\d+ workers, [\\d,]+ tokens, \\$\\d+\\.\\d\\d\\n`),
    );
  });

  test("a run's cost budget stops its workers and starts no new one", async () => {
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    try {
      const group = { id: "cost-run", maxCostUsd: 1.5 };
      const cheap = await baton.spawn({
        task: `cheap\n${modelScriptLine([{ type: "message", text: "ok", usage: { input_tokens: 1000, output_tokens: 0 } }])}`,
        group,
      });
      await baton.wait([cheap]);
      const spender = await baton.spawn({
        task: `spender\n${modelScriptLine([{ type: "shell", command: "sleep 60", usage: { input_tokens: 1000, output_tokens: 0 } }, ...busy()])}`,
        group,
      });
      await baton.wait([spender]);
      assert.equal((await baton.result(cheap)).state, "succeeded", "a worker that finished keeps its result");
      const stopped = await baton.result(spender);
      assert.equal(stopped.state, "over_budget", JSON.stringify(stopped.reason));
      assert.ok(stopped.reason?.kind === "budget" && stopped.reason.scope === "run");
      await assert.rejects(baton.spawn({ task: "one more", group }), (error: Error) =>
        /run cost-run has cost \$2\.\d\d of its \$1\.50: raise its budget to start more workers/.test(
          error.message,
        ),
      );
    } finally {
      baton.close();
    }
  });
});

describe("dollars: Claude Code's own figure", () => {
  let claude: ClaudeWorkspace;
  before(async () => {
    claude = await ClaudeWorkspace.create();
  });
  after(() => claude.cleanup());

  test("a claude worker's cost is its total_cost_usd (source agent); a follow-up's is its own part", async () => {
    const first = await claude.run("agent-priced", [{ type: "message", text: "first turn" }]);
    assert.equal(first.state, "succeeded", JSON.stringify(first.reason));
    const figure = claude.events(first.id).find((e) => e.type === "turn_completed")?.costUsd;
    assert.ok(figure !== undefined && figure > 0, "Claude Code reported its cost");
    assert.deepEqual(first.cost, { usd: figure, source: "agent" }, "the CLI's own figure, as it gave it");
    assert.ok(first.model, "the model its init line named");
    const row = (await claude.ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers.find(
      (w) => w.id === first.id,
    );
    assert.deepEqual(row?.cost, first.cost);

    const next = await claude.spawn(["--continue", first.id, "and a second turn"]);
    await claude.ws.baton(["wait", next]);
    const second = await claude.resultOf(next);
    assert.equal(second.state, "succeeded", JSON.stringify(second.reason));
    const total = claude.events(next).find((e) => e.type === "turn_completed")?.costUsd;
    assert.ok(total !== undefined, "the resumed session reported its running total");
    assert.ok(total > figure, `its running total counts the first turn too: ${total} after ${figure}`);
    assert.equal(second.cost?.source, "agent");
    assert.ok(
      near(second.cost?.usd, Math.max(0, total - figure)),
      `${total} - ${figure}: ${JSON.stringify(second.cost)}`,
    );
    assert.equal(second.threadUsd, total, "the thread's total, for the next follow-up");
  });
});

describe("dollars: the Gemini CLI priced by Baton's own table", () => {
  let gemini: GeminiWorkspace;
  before(async () => {
    gemini = await GeminiWorkspace.create();
  });
  after(() => gemini.cleanup());

  test("a gemini worker runs the model Baton names and is priced by the shipped table, with its date", async () => {
    const done = await gemini.run("table-priced", [{ type: "message", text: "priced by the table" }]);
    assert.equal(done.state, "succeeded", JSON.stringify(done.reason));
    assert.equal(done.model, "gemini-2.5-pro");
    assert.equal(done.cost?.source, "baton");
    assert.deepEqual(done.cost?.usd !== undefined && done.cost.table, {
      source: SHIPPED_PRICES.source,
      date: SHIPPED_PRICES.date,
      model: "gemini-2.5-pro",
    });
    assert.ok((done.cost?.usd ?? 0) > 0, JSON.stringify(done.cost));
  });
});
