import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript, modelScriptLine, type ScriptStep } from "../dist/scripted-model/index.js";
import { oneLineError, until, workerProcesses } from "./support/faults.ts";
import { alive, Workspace } from "./support/harness.ts";

// A worker's agent killed with SIGKILL from outside (the OOM killer, a person with `kill -9`): that worker
// fails definitely with what it printed kept, and nothing else notices.

const say = (text: string, ...steps: ScriptStep[]) => `${text}\n${modelScriptLine(steps)}`;

describe("a worker whose agent is killed with SIGKILL", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  test("fails with the signal, keeps its transcript, leaves no process, and the other workers finish", async () => {
    const spawn = async (prompt: string) => (await ws.ok(["spawn", prompt])).trim();
    const victim = await spawn(
      say("victim", { type: "shell", command: "sleep 30" }, { type: "message", text: "never" }),
    );
    const others = [];
    for (let i = 0; i < 3; i++)
      others.push(
        await spawn(
          say(`other ${i}`, { type: "shell", command: "sleep 2" }, { type: "message", text: `o${i}` }),
        ),
      );
    const transcript = join(ws.home, "workers", victim, "transcript.log");
    await until("the victim runs its command", () =>
      readFileSync(transcript, "utf8").includes('"command_execution"'),
    );
    const supervisor = ws.supervisorPid();
    const { pid } = JSON.parse(readFileSync(join(ws.home, "workers", victim, "status.json"), "utf8"));
    assert.ok(pid > 0 && alive(pid), "the victim's agent is running");
    assert.match(readFileSync(`/proc/${pid}/cmdline`, "latin1"), /codex/, "the pid is the agent itself");
    const before = readFileSync(transcript, "utf8");
    process.kill(pid, "SIGKILL");

    const waited = await ws.baton(["wait", victim, "--timeout", "30"]);
    assert.equal(waited.code, 1, "wait reports the failure");
    const raw = await ws.baton(["result", victim, "--json"]);
    assert.equal(raw.code, 1);
    const result = JSON.parse(raw.stdout) as WorkerResult;
    assert.equal(result.state, "failed");
    assert.deepEqual(result.reason, { kind: "signal", signal: 9 });
    assert.match(
      oneLineError((await ws.baton(["result", victim])).stderr),
      new RegExp(`worker ${victim} failed: killed by signal 9`),
    );

    const kept = readFileSync(transcript, "utf8");
    assert.ok(kept.startsWith(before), "the transcript up to the kill is kept as it was");
    assert.match(kept, /"thread\.started"/);
    const polled = await ws.json<{ output: string; state: string }>(["poll", victim, "--since", "0"]);
    assert.equal(polled.state, "failed");
    assert.match(polled.output, /"command_execution"/, "poll shows the transcript's tail");
    await until("nothing of the victim is left", () => workerProcesses(ws, victim).length === 0, 5_000);

    assert.equal((await ws.baton(["wait", ...others])).code, 0, "the other workers all succeed");
    for (const [i, id] of others.entries()) assert.equal((await ws.ok(["result", id])).trim(), `o${i}`);
    assert.equal(ws.supervisorPid(), supervisor);
    assert.ok(supervisor && alive(supervisor), "the supervisor is still up");
  });
});
