import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ModelRequest, ScriptStep } from "../dist/scripted-model/index.js";
import { CLI, sleep, Workspace } from "./support/harness.ts";

// `baton run` is killed in the middle of a pattern; `baton resume RUN` finishes it without running
// the workers that had already finished again.

const finding = (title: string, location: string) => ({
  title,
  severity: "high",
  location,
  evidence: `seen at ${location}`,
  recommendation: `fix ${title}`,
  sources: [],
});

const asked = new Map<string, number>();

function model(request: ModelRequest): ScriptStep {
  const text = request.userText;
  if (text.includes("TASK: SYNTHESIS"))
    return { type: "message", text: "synthesis: two findings, fix eval first" };
  const lens = /LENS: (.+)/.exec(text)?.[1]?.trim() ?? "";
  const times = (asked.get(lens) ?? 0) + 1;
  asked.set(lens, times);
  if (lens === "Security") {
    return {
      type: "message",
      text: JSON.stringify({ summary: "s", findings: [finding("eval of input", "calc.js:3")] }),
    };
  }
  // In the second test the correctness reviewer takes a few turns, then answers by itself.
  if (text.includes("calc2.js")) {
    if (request.turn < 3) return { type: "shell", command: "echo correctness-at-work; sleep 3" };
    return {
      type: "message",
      text: JSON.stringify({ summary: "c", findings: [finding("add subtracts", "calc2.js:1")] }),
    };
  }
  // The correctness reviewer is at work until it is resumed: each turn starts another long command,
  // because codex hands a long command back to the model after 10 s while it still runs.
  if (!text.includes("your previous session was cut off"))
    return { type: "shell", command: "echo correctness-at-work; sleep 120" };
  return {
    type: "message",
    text: JSON.stringify({ summary: "c", findings: [finding("add subtracts", "calc.js:1")] }),
  };
}

interface RunJson {
  state: string;
  resumes?: number;
  workers: { id: string; label: string }[];
}

/** The two reviewers, by label: they start together, so the record may hold them in either order. */
function reviewers(run: RunJson) {
  const byLens = (lens: string) => run.workers.find((w) => w.label.endsWith(`review-${lens}`));
  return [byLens("security"), byLens("correctness")];
}

describe("run-level resume", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(model);
  });
  after(() => ws.cleanup());

  const runJson = (id: string) =>
    JSON.parse(readFileSync(join(ws.home, "runs", id, "run.json"), "utf8")) as RunJson;
  const state = async (id: string) =>
    JSON.parse((await ws.baton(["result", id, "--json"])).stdout).state as string;

  test("a run killed with its supervisor is finished by baton resume; finished workers are not run again", async () => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        "run",
        "review",
        "--lens",
        "security",
        "--lens",
        "correctness",
        "--idle-timeout",
        "500",
        "--max-tokens",
        "90000",
        "--run-max-tokens",
        "900000",
        "--retries",
        "1",
        "Review calc.js",
      ],
      { cwd: ws.dir, env: ws.env, stdio: "ignore" },
    );
    const exited = new Promise((resolve) => child.on("exit", resolve));
    let run: RunJson | undefined;
    for (let i = 0; i < 300; i++) {
      try {
        run = runJson("r1");
        if (run.workers.length === 2) {
          const [security, correctness] = reviewers(run);
          const logs = await ws.ok(["logs", correctness!.id]);
          if ((await state(security!.id)) === "succeeded" && logs.includes("correctness-at-work")) break;
        }
      } catch {}
      await sleep(100);
    }
    assert.equal(run?.workers.length, 2, "both reviewers started");
    const [security, correctness] = reviewers(run!);
    const securityResult = readFileSync(join(ws.home, "workers", security!.id, "result.json"));

    // The terminal dies: the run's process and the supervisor both go, with SIGKILL.
    child.kill("SIGKILL");
    await exited;
    process.kill(ws.supervisorPid()!, "SIGKILL");
    assert.equal(runJson("r1").state, "running", "the killed run never got to record an end");

    const resumeStarted = Date.now();
    const resumed = await ws.baton(["resume", "r1", "--json"]);
    process.stderr.write(`# resume took ${Date.now() - resumeStarted} ms\n${resumed.stderr}`);
    assert.equal(resumed.code, 0, resumed.stderr);
    const output = JSON.parse(resumed.stdout) as {
      run: string;
      result: { findings?: unknown[] };
      markdown: string;
    };
    assert.equal(output.run, "r1");
    assert.match(output.markdown, /eval of input/);
    assert.match(output.markdown, /add subtracts/);
    assert.match(resumed.stderr, new RegExp(`${security!.id} already succeeded: not run again`));
    assert.match(resumed.stderr, new RegExp(`${correctness!.id} was lost with its supervisor: resumed`));

    assert.equal(asked.get("Security"), 1, "the finished reviewer was not run again");
    assert.ok((asked.get("Correctness/completeness") ?? 0) >= 2, "the lost reviewer continued");
    const after = runJson("r1");
    assert.equal(after.state, "succeeded");
    assert.equal(after.resumes, 1);
    assert.deepEqual(
      reviewers(after).map((w) => w?.id),
      [security!.id, correctness!.id],
      "the same workers",
    );
    assert.equal(after.workers.length, 3, "the two reviewers and the synthesis, no more");
    // The worker the resume started has the limits the killed `baton run` was given.
    const synthesis = after.workers.find((w) => !reviewers(after).includes(w))!;
    const spec = JSON.parse(readFileSync(join(ws.home, "workers", synthesis.id, "spec.json"), "utf8"));
    assert.deepEqual(
      [spec.idleTimeoutSeconds, spec.maxTokens, spec.retries, spec.group],
      [500, 90000, 1, { id: "r1", maxTokens: 900000 }],
    );
    assert.deepEqual(readFileSync(join(ws.home, "workers", security!.id, "result.json")), securityResult);
    const correctnessResult = JSON.parse(
      readFileSync(join(ws.home, "workers", correctness!.id, "result.json"), "utf8"),
    );
    assert.equal(correctnessResult.resumes, 1);

    const again = await ws.baton(["resume", "r1"]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^baton: run r1 already succeeded: its result is in .*result\.md\n$/);
  });

  test("a run whose own process died while its supervisor lives: resume waits for the workers still running", async () => {
    const child = spawn(
      process.execPath,
      [CLI, "run", "review", "--lens", "security", "--lens", "correctness", "Review calc2.js"],
      { cwd: ws.dir, env: ws.env, stdio: "ignore" },
    );
    const exited = new Promise((resolve) => child.on("exit", resolve));
    const runId = "r2";
    let run: RunJson | undefined;
    for (let i = 0; i < 300; i++) {
      try {
        run = runJson(runId);
        const [security, correctness] = reviewers(run);
        if (security && correctness) {
          const logs = await ws.ok(["logs", correctness.id]);
          if ((await state(security.id)) === "succeeded" && logs.includes("correctness-at-work")) break;
        }
      } catch {}
      await sleep(100);
    }
    const [security, correctness] = reviewers(run!);
    assert.ok(security && correctness, "both reviewers started");
    const supervisor = ws.supervisorPid();
    child.kill("SIGKILL");
    await exited;

    const resumed = await ws.baton(["resume", runId, "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`${security.id} already succeeded: not run again`));
    assert.match(resumed.stderr, new RegExp(`${correctness.id} is still running: waiting for it`));
    assert.match((JSON.parse(resumed.stdout) as { markdown: string }).markdown, /add subtracts/);
    assert.equal(ws.supervisorPid(), supervisor, "the same supervisor ran it all");
    const securityAsked = ws.model.requests.filter(
      (r) => r.userText.includes("calc2.js") && r.userText.includes("LENS: Security"),
    );
    assert.equal(securityAsked.length, 1, "the finished reviewer was not run again");
    const record = runJson(runId);
    assert.equal(record.state, "succeeded");
    assert.equal(record.workers.length, 3);
  });

  test("resume names a missing or malformed run in one line", async () => {
    const missing = await ws.baton(["resume", "r99"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^baton: no run "r99" in this workspace/);
    const mixed = await ws.baton(["resume", "r1", "w1"]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /resume one run at a time/);
    const bad = await ws.baton(["resume", "../../x"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"..\/..\/x" is neither a worker id .* nor a run id/);
  });
});
