import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pty from "@lydell/node-pty";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { busy, CLI, FIXTURES, processesWithEnv, sleep, Workspace } from "./support/harness.ts";

// Ctrl+C typed into the terminal that runs `baton wait` or `baton run`: a real PTY, a real SIGINT.

interface Session {
  output: string;
  readonly exited: Promise<number>;
  ctrlC(): void;
}

function inTerminal(ws: Workspace, args: string[]): Session {
  const terminal = pty.spawn(process.execPath, [CLI, ...args], {
    cwd: ws.dir,
    env: ws.env as Record<string, string>,
    cols: 200,
    rows: 50,
  });
  const session: Session = {
    output: "",
    exited: new Promise((resolve) => terminal.onExit(({ exitCode }) => resolve(exitCode))),
    ctrlC: () => terminal.write("\x03"),
  };
  terminal.onData((data) => {
    session.output += data;
  });
  return session;
}

/** Ctrl+C, then once the first has been taken, Ctrl+C again: the CLI must force its workers and exit 130. */
async function ctrlCTwice(session: Session): Promise<void> {
  session.ctrlC();
  await until(() => session.output.includes("stopping the workers gracefully"), "the first Ctrl+C");
  const first = Date.now();
  session.ctrlC();
  const code = await session.exited;
  const took = Date.now() - first;
  assert.equal(code, 130, session.output);
  assert.match(session.output, /forcing the workers to stop/);
  // Gracefully it would take 3 s to SIGTERM (ignored) and 6 s to SIGKILL, and the CLI gives up
  // waiting only after 10 s; forced, SIGKILL goes at once and the CLI exits as soon as it is done.
  assert.ok(took < 5000, `forced stop took ${took} ms`);
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe("Ctrl+C on wait and run", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  const marked = (id: string) =>
    processesWithEnv(`BATON_WORKER_ID=${id}`).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, "latin1").includes(ws.home);
      } catch {
        return false;
      }
    });
  const state = async (id: string) =>
    (JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult).state;
  /** Every worker's state, finished or not. */
  const states = async () =>
    new Map(
      (await ws.json<{ workers: { id: string; state: string }[] }>(["ls"])).workers.map((w) => [
        w.id,
        w.state,
      ]),
    );
  /** The run `baton run` started last, and the ids of its workers once it has `count` of them. */
  const newestRun = async (count: number) => {
    let run = "";
    let ids: string[] = [];
    await until(() => {
      const numbers = readdirSync(join(ws.home, "runs")).map((name) => Number(name.slice(1)));
      run = `r${Math.max(...numbers)}`;
      const record = JSON.parse(readFileSync(join(ws.home, "runs", run, "run.json"), "utf8"));
      ids = (record as { workers: { id: string }[] }).workers.map((w) => w.id);
      return ids.length === count;
    }, `the run's ${count} workers`);
    return { run, ids };
  };

  test("Ctrl+C on wait stops the workers gracefully, prints what each got to, exits 130", async () => {
    const done = (
      await ws.ok(["spawn", `quick\n${modelScriptLine([{ type: "message", text: "quick answer" }])}`])
    ).trim();
    await ws.ok(["wait", done]);
    const slow = (
      await ws.ok(["spawn", `slow\n${modelScriptLine(busy("echo working-on-it; sleep 120"))}`])
    ).trim();
    await until(
      async () => (await ws.ok(["logs", slow])).includes("working-on-it"),
      "the slow worker's command",
    );
    const session = inTerminal(ws, ["wait", done, slow]);
    await until(() => session.output.includes("waiting for"), "wait to be ready for Ctrl+C");
    session.ctrlC();
    const code = await session.exited;
    assert.equal(code, 130, session.output);
    assert.match(session.output, /stopping the workers gracefully/);
    // The one that had ended already is not waited for; its answer is in the summary all the same.
    assert.match(session.output, new RegExp(`waiting for ${slow} \\(Ctrl\\+C stops them\\)`));
    assert.match(session.output, new RegExp(`## ${done}: succeeded[\\s\\S]*quick answer`));
    assert.match(
      session.output,
      new RegExp(`## ${slow}: canceled[\\s\\S]*end of its transcript[\\s\\S]*working-on-it`),
    );
    assert.match(session.output, /summary saved in .*summaries\/wait-/);
    assert.equal(await state(slow), "canceled");
    assert.deepEqual(marked(slow), []);
  });

  test("a second Ctrl+C forces workers that ignore the first", async () => {
    const id = (
      await ws.ok(["spawn", "--codex-bin", join(FIXTURES, "stubborn-agent.sh"), "ignore me"])
    ).trim();
    await until(async () => (await ws.ok(["logs", id])).includes("stubborn: started"), "the stubborn agent");
    const session = inTerminal(ws, ["wait", id]);
    await until(() => session.output.includes("waiting for"), "wait to be ready for Ctrl+C");
    await ctrlCTwice(session);
    await until(() => marked(id).length === 0, "the stubborn agent to be gone", 10_000);
    assert.equal(await state(id), "canceled");
  });

  test("Ctrl+C on run stops its workers, saves a summary in the run, exits 130", async () => {
    // The first reviewer to ask answers at once; the other is still at work when Ctrl+C comes.
    const answer = JSON.stringify({ summary: "quick review, nothing found", findings: [] });
    const task = `Review the sleepy code\n${modelScriptLine([
      {
        type: "attempts",
        steps: [
          { type: "message", text: answer },
          { type: "shell", command: "echo reviewing-now; sleep 120" },
        ],
      },
      ...busy("echo reviewing-now; sleep 120"),
    ])}`;
    const session = inTerminal(ws, ["run", "review", "--lens", "security", "--lens", "correctness", task]);
    await until(() => (session.output.match(/started/g) ?? []).length >= 2, "both reviewers to start");
    const { run, ids } = await newestRun(2);
    const runDir = join(ws.home, "runs", run);
    let done = "";
    let busyOne = "";
    await until(async () => {
      const now = await states();
      const logs = await Promise.all(ids.map((id) => ws.ok(["logs", id])));
      done = ids.find((id) => now.get(id) === "succeeded") ?? "";
      busyOne = ids.find((id, i) => now.get(id) === "running" && logs[i]!.includes("reviewing-now")) ?? "";
      return done !== "" && busyOne !== "";
    }, "one reviewer done, the other at work");
    session.ctrlC();
    const code = await session.exited;
    assert.equal(code, 130, session.output);
    assert.ok(existsSync(join(runDir, "summary.md")), "the run's summary is saved");
    const summary = readFileSync(join(runDir, "summary.md"), "utf8");
    assert.match(
      summary,
      new RegExp(`## ${done} \\(.*\\): succeeded[\\s\\S]*quick review, nothing found`),
      "the finished reviewer's final answer is collected",
    );
    assert.match(
      summary,
      new RegExp(`## ${busyOne} \\(.*\\): canceled[\\s\\S]*reviewing-now`),
      "the transcript tail stands in for the missing answer",
    );
    assert.equal(await state(done), "succeeded");
    assert.equal(await state(busyOne), "canceled");
    assert.deepEqual(marked(busyOne), []);
    assert.match(session.output, /Run r\d+ was stopped/);
    assert.equal(JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")).state, "canceled");
  });

  test("a second Ctrl+C on run forces workers that ignore the first", async () => {
    const stubborn = join(FIXTURES, "stubborn-agent.sh");
    const session = inTerminal(ws, [
      "run",
      "review",
      "--lens",
      "security",
      "--lens",
      "correctness",
      "--codex-bin",
      stubborn,
      "Review it",
    ]);
    await until(() => (session.output.match(/started/g) ?? []).length >= 2, "both reviewers to start");
    const { ids } = await newestRun(2);
    await until(
      async () =>
        (await Promise.all(ids.map((id) => ws.ok(["logs", id])))).every((l) =>
          l.includes("stubborn: started"),
        ),
      "the stubborn agents",
    );
    await ctrlCTwice(session);
    for (const id of ids) {
      await until(() => marked(id).length === 0, `${id}'s stubborn agent to be gone`, 10_000);
      assert.equal(await state(id), "canceled");
    }
  });
});
