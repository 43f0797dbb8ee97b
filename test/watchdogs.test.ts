import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { Baton, type WorkerInfo, type WorkerResult } from "../dist/index.js";
import { type DirectiveStep, directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { busy, processesWithEnv, Workspace } from "./support/harness.ts";

// Watchdogs, budgets and retries, with real codex workers and a model that misbehaves on purpose.

describe("watchdogs, budgets and retries", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  /** Spawns a worker whose model plays `steps`, waits for it, and returns its result (any state). */
  async function run(name: string, steps: DirectiveStep[], flags: string[] = []): Promise<WorkerResult> {
    const id = (await ws.ok(["spawn", ...flags, `${name}\n${modelScriptLine(steps)}`])).trim();
    await ws.baton(["wait", id]);
    const raw = await ws.baton(["result", id, "--json"]);
    return JSON.parse(raw.stdout) as WorkerResult;
  }

  /** Requests the model received for the worker whose prompt starts with `name`. */
  const requestsFor = (name: string) =>
    ws.model.requests.filter((r) => r.userText.includes(`${name}\n`)).length;

  /** Processes still alive that belong to worker `id` of this workspace. */
  const leftovers = (id: string) =>
    processesWithEnv(`BATON_WORKER_ID=${id}`).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, "latin1").includes(ws.home);
      } catch {
        return false;
      }
    });

  test("a model that sends headers and then goes silent is ended by the idle timeout", async () => {
    const result = await run("stall-once", [{ type: "stall" }], ["--idle-timeout", "2", "--retries", "0"]);
    assert.equal(result.state, "timed_out");
    assert.deepEqual(result.reason, { kind: "timeout", limit: "idle", seconds: 2 });
    assert.equal(result.retries, 0);
    assert.deepEqual(leftovers(result.id), []);
  });

  test("a model that never answers is retried, and the retry's answer is the result", async () => {
    const result = await run(
      "hang-then-answer",
      [{ type: "attempts", steps: [{ type: "hang" }, { type: "message", text: "answered on retry" }] }],
      ["--idle-timeout", "2"],
    );
    assert.equal(result.state, "succeeded", JSON.stringify(result.reason));
    assert.equal(result.answer, "answered on retry");
    assert.equal(result.retries, 1);
    assert.equal(requestsFor("hang-then-answer"), 2);
    const logs = await ws.ok(["logs", result.id]);
    assert.match(logs, /\[baton\] retry 1 of 2 after a transient failure/);
    const listing = await ws.json<{ workers: WorkerInfo[] }>(["ls"]);
    const listed = listing.workers.find((w) => w.id === result.id);
    assert.equal(listed?.retries, 1, "ls shows the retries");
    const tokens = result.usage.inputTokens + result.usage.outputTokens;
    assert.ok(tokens > 0, "the answer's usage is counted");
    assert.equal(listed?.tokens, tokens, "ls shows the tokens result --json counts");
    const row = (await ws.ok(["ls"])).split("\n").find((line) => line.startsWith(`${result.id} `));
    assert.match(
      row ?? "",
      new RegExp(`\\ssucceeded\\s.*\\s${tokens}\\s+unpriced\\s+1\\s*$`),
      "the table's TOKENS, COST (the scripted model has no price) and RETRIES",
    );
  });

  test("a model 500 is retried until the retries run out", async () => {
    const result = await run("always-500", [{ type: "http_error", status: 500 }], ["--retries", "1"]);
    assert.equal(result.state, "failed");
    assert.equal(result.retries, 1);
    assert.equal(requestsFor("always-500"), 2, "one first attempt and one retry");
  });

  test("a model 503 once, then an answer: succeeded after one retry", async () => {
    const result = await run("503-once", [
      {
        type: "attempts",
        steps: [
          { type: "http_error", status: 503 },
          { type: "message", text: "fine now" },
        ],
      },
    ]);
    assert.equal(result.state, "succeeded");
    assert.equal(result.answer, "fine now");
    assert.equal(result.retries, 1);
  });

  test("a model 400 is not retried", async () => {
    const result = await run("bad-request", [{ type: "http_error", status: 400 }]);
    assert.equal(result.state, "failed");
    assert.equal(result.retries, 0);
    assert.equal(requestsFor("bad-request"), 1);
  });

  test("the agent's own failure is not retried", async () => {
    const result = await run("own-failure", [
      { type: "failed", code: "invalid_prompt", message: "the prompt breaks the rules" },
    ]);
    assert.equal(result.state, "failed");
    assert.equal(result.retries, 0);
    assert.equal(requestsFor("own-failure"), 1);
  });

  test("a worker over its token budget is stopped in the middle of its turn", async () => {
    const started = Date.now();
    const result = await run(
      "big-spender",
      [{ type: "shell", command: "sleep 60", usage: { input_tokens: 5000, output_tokens: 100 } }, ...busy()],
      ["--max-tokens", "1000"],
    );
    assert.equal(result.state, "over_budget");
    assert.equal(result.reason?.kind, "budget");
    assert.ok(
      result.reason?.kind === "budget" && result.reason.scope === "worker" && result.reason.limit === 1000,
    );
    assert.ok(result.reason?.kind === "budget" && result.reason.used >= 5100);
    assert.ok(result.usage.inputTokens >= 5000, "usage is counted from codex's own usage events");
    assert.ok(Date.now() - started < 50_000, "stopped long before its command would have ended");
    assert.deepEqual(leftovers(result.id), []);
    const shown = await ws.baton(["result", result.id]);
    assert.match(shown.stderr + shown.stdout, /over its budget of 1,000/);
  });

  test("a run's token budget stops every worker of the run and refuses new ones", async () => {
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
    try {
      const group = { id: "budget-run", maxTokens: 3000 };
      const cheap = await baton.spawn({
        task: `cheap\n${modelScriptLine([{ type: "message", text: "ok", usage: { input_tokens: 1000, output_tokens: 0 } }])}`,
        group,
      });
      await baton.wait([cheap]);
      const slow = await baton.spawn({
        task: `slow\n${modelScriptLine([...busy(), { type: "message", text: "late" }])}`,
        group,
      });
      const spender = await baton.spawn({
        task: `spender\n${modelScriptLine([{ type: "shell", command: "sleep 60", usage: { input_tokens: 2500, output_tokens: 0 } }, ...busy()])}`,
        group,
      });
      await baton.wait([slow, spender]);
      for (const id of [slow, spender]) {
        const result = await baton.result(id);
        assert.equal(result.state, "over_budget", `${id}: ${JSON.stringify(result.reason)}`);
        assert.ok(
          result.reason?.kind === "budget" && result.reason.scope === "run" && result.reason.limit === 3000,
        );
      }
      assert.equal((await baton.result(cheap)).state, "succeeded", "a worker that finished keeps its result");
      await assert.rejects(baton.spawn({ task: "one more", group }), (error: Error) =>
        /run budget-run has used \d+ of its 3000 tokens/.test(error.message),
      );
    } finally {
      baton.close();
    }
  });

  test("baton run's limits reach every worker of the run", async () => {
    // Each reviewer reports 2,000 tokens with its first command, then keeps working.
    const task = (name: string) =>
      `${name}\n${modelScriptLine([{ type: "shell", command: "sleep 60", usage: { input_tokens: 2000, output_tokens: 0 } }, ...busy()])}`;
    const review = ["run", "review", "--lens", "security", "--lens", "correctness", "--json"];
    const reviewers = (stdout: string) => {
      const run = /\b(r\d+)\b/.exec(stdout)?.[1];
      const runs = readFileSync(`${ws.home}/runs/${run ?? lastRun()}/run.json`, "utf8");
      return (JSON.parse(runs) as { workers: { id: string; label: string }[] }).workers;
    };
    const lastRun = () => {
      const all = readdirSync(`${ws.home}/runs`).map((name) => Number(name.slice(1)));
      return `r${Math.max(...all)}`;
    };
    const cases = [
      { flags: ["--run-max-tokens", "3000"], scope: "run", limit: 3000 },
      { flags: ["--max-tokens", "1000", "--retries", "0"], scope: "worker", limit: 1000 },
    ] as const;
    for (const { flags, scope, limit } of cases) {
      const ran = await ws.baton([...review, ...flags, task(`run limits ${scope}`)]);
      assert.notEqual(ran.code, 0, "the run fails when its reviewers are stopped");
      assert.match(ran.stderr, /review-security over_budget/, "the run shows which limit ended its workers");
      const workers = reviewers(ran.stdout).filter((w) => /review-/.test(w.label));
      assert.equal(workers.length, 2, ran.stderr);
      for (const worker of workers) {
        const result = JSON.parse((await ws.baton(["result", worker.id, "--json"])).stdout) as WorkerResult;
        assert.equal(result.state, "over_budget", `${worker.id}: ${JSON.stringify(result.reason)}`);
        assert.ok(
          result.reason?.kind === "budget" && result.reason.scope === scope && result.reason.limit === limit,
          `${worker.id}: ${JSON.stringify(result.reason)}`,
        );
        assert.deepEqual(leftovers(worker.id), []);
      }
    }
  });

  test("bad limits are refused with a one-line error", async () => {
    for (const [flags, pattern] of [
      [["--idle-timeout", "0"], /--idle-timeout must be a positive number/],
      [["--idle-timeout", "-3"], /--idle-timeout must be a positive number/],
      [["--max-tokens", "1.5"], /--max-tokens must be a whole number/],
      [["--retries", "-1"], /--retries must be a whole number of 0 or more/],
      [["--retries", "11"], /retries: must be at most 10/],
    ] as const) {
      const result = await ws.baton(["spawn", ...flags, "task"]);
      assert.equal(result.code, 2, `${flags.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, pattern);
      assert.equal(result.stderr.trim().split("\n").length, 1);
    }
  });
});
