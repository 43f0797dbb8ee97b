import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ModelRequest, ScriptStep } from "../dist/scripted-model/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { CODEX_BIN, ROOT, type RunResult, Workspace } from "./support/harness.ts";

// A real `codex exec` is the orchestrator, with Baton's MCP server registered the way
// `baton skill install --codex` registers it; real codex workers run underneath. The scripted
// model shows what entered the orchestrator's context: the requests it received.

const LEAD = "LEAD-RUN-MARKER";
const say = (text: string): ScriptStep => ({ type: "message", text });
const answerOf = (i: number) => `ANSWER-${i}: worker ${i} found ${i * 11} things`;

/** A worker that prints a lot (which must stay in its transcript), then answers in one line. */
function workerTask(i: number): string {
  // The noise lines are computed, so that their text never appears in any prompt.
  const noise = `for n in $(seq 1 150); do echo "NOISE$((n*7))-W${i} lorem ipsum dolor sit amet"; done`;
  return `Count things in part ${i}\n${modelScriptLine([{ type: "shell", command: noise }, say(answerOf(i))])}`;
}

const mcp = (tool: string, args: unknown): ScriptStep => ({ type: "mcp", server: "baton", tool, args });
const shell = (command: string): ScriptStep => ({ type: "shell", command });

/** Names of the tools (and tool namespaces) a request offered the model. */
function toolNames(request: ModelRequest): string[] {
  const tools = Array.isArray(request.body.tools)
    ? (request.body.tools as { name?: string; type?: string }[])
    : [];
  return tools.map((t) => t.name ?? t.type ?? "");
}

const leadRequests = (ws: Workspace) => ws.model.requests.filter((r) => r.userText.includes(LEAD));
const workerRequests = (ws: Workspace) =>
  ws.model.requests.filter((r) => r.userText.includes("CONTEXT: WORKER") && !r.userText.includes(LEAD));

function finalMessage(stdout: string): string {
  let last = "";
  for (const line of stdout.split("\n")) {
    try {
      const event = JSON.parse(line) as { type?: string; item?: { type?: string; text?: string } };
      if (event.type === "item.completed" && event.item?.type === "agent_message")
        last = event.item.text ?? "";
    } catch {}
  }
  return last;
}

describe("a real codex as the orchestrator", () => {
  let ws: Workspace;
  let env: NodeJS.ProcessEnv;
  let bin: string;

  /** Runs `codex exec` as the lead; stdin closed, as an agent runner would. */
  const lead = (prompt: string, extra: readonly string[] = []): Promise<RunResult> =>
    new Promise((resolve) => {
      const args = ["exec", "--json", "--skip-git-repo-check", "-C", ws.dir, ...extra, prompt];
      const child = execFile(CODEX_BIN, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });

  before(async () => {
    ws = await Workspace.create(directiveScript());
    const home = join(ws.dir, "home");
    bin = join(ws.dir, "bin");
    mkdirSync(home);
    mkdirSync(bin);
    // `baton` on PATH, as a global install puts it: the package's bin (the native client), linked.
    symlinkSync(join(ROOT, "dist/cli/baton"), join(bin, "baton"));
    env = { ...ws.env, HOME: home, PATH: `${bin}:${process.env.PATH}` };
    const installed = await ws.baton(["skill", "install", "--codex"], { env });
    assert.equal(installed.code, 0, installed.stderr);
  });
  after(() => ws.cleanup());

  test("over MCP: three spawns, wait, three results; only the final answers reach the lead", async () => {
    const script = [
      mcp("spawn", { task: workerTask(1), label: "one" }),
      mcp("spawn", { task: workerTask(2), label: "two" }),
      mcp("spawn", { task: workerTask(3), label: "three" }),
      mcp("wait", { timeoutSeconds: 300 }),
      mcp("result", { id: "w1" }),
      mcp("result", { id: "w2" }),
      mcp("result", { id: "w3" }),
      say("Summary of the workers:\n{{outputs:3}}"),
    ];
    // The scripted model's key is a test value; a real user's key is forwarded by name the same way.
    const forward =
      'mcp_servers.baton.env_vars=["BATON_WORKER_ID","BATON_HOME","BATON_CODEX_BIN","CODEX_HOME","SCRIPTED_KEY"]';
    const run = await lead(`${LEAD} fan out three workers\n${modelScriptLine(script)}`, ["-c", forward]);
    assert.equal(run.code, 0, run.stderr);
    const final = finalMessage(run.stdout);
    for (const i of [1, 2, 3]) assert.ok(final.includes(answerOf(i)), `the final answer has worker ${i}'s`);

    // What the lead was shown: three ids, the wait summary, and exactly the three answers.
    const requests = leadRequests(ws);
    const last = requests.at(-1);
    assert.ok(last, "the lead's requests were seen");
    assert.ok(
      toolNames(requests[0]!).includes("mcp__baton"),
      "Baton's tools are offered from the first request",
    );
    const shown = last.toolOutputs.map((o) => o.replace(/^Wall time: [^\n]*\nOutput:/, ""));
    assert.deepEqual(shown.slice(0, 3).sort(), ["w1", "w2", "w3"]);
    assert.match(shown[3] ?? "", /^all ended\n/);
    assert.deepEqual(shown.slice(4), [answerOf(1), answerOf(2), answerOf(3)]);
    for (const request of requests) {
      const body = JSON.stringify(request.body);
      assert.doesNotMatch(body, /NOISE[0-9]+-W[0-9]/, "no worker transcript reached the lead");
      assert.doesNotMatch(body, /item\.completed|thread\.started/, "no worker event reached the lead");
    }
    // The noise is real: it is in the workers' transcripts, which are far larger than what the lead saw.
    const transcript = readFileSync(join(ws.home, "workers", "w1", "transcript.log"), "utf8");
    assert.match(transcript, /NOISE7-W1/);
    assert.ok(transcript.length > 10 * (shown[4]?.length ?? 0));
  });

  test("through the shell: baton spawn and baton result from the lead's shell tool", async () => {
    const spawn = (i: number) => shell(`baton spawn --label shell-${i} - <<'EOF'\n${workerTask(i)}\nEOF`);
    const script = [
      spawn(1),
      spawn(2),
      spawn(3),
      shell("baton wait"),
      shell("baton result w4"),
      shell("baton result w5"),
      shell("baton result w6"),
      say("Summary of the workers:\n{{outputs:3}}"),
    ];
    const run = await lead(`${LEAD} shell route\n${modelScriptLine(script)}`, [
      // baton reaches its supervisor and starts workers that reach the model: no sandbox for the lead.
      "--sandbox",
      "danger-full-access",
      // codex keeps *KEY* variables from commands by default; workers need the model's key.
      "-c",
      "shell_environment_policy.ignore_default_excludes=true",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const final = finalMessage(run.stdout);
    for (const i of [1, 2, 3])
      assert.ok(final.includes(answerOf(i)), `final answer has worker ${i}'s: ${final}`);
    const last = leadRequests(ws).at(-1);
    const results = (last?.toolOutputs ?? []).slice(-3).map((o) => o.slice(o.indexOf("\nOutput:\n") + 9));
    assert.deepEqual(
      results.map((r) => r.trim()),
      [answerOf(1), answerOf(2), answerOf(3)],
    );
    const labels = await ws.json<{ workers: { id: string; label: string; state: string }[] }>(["ls"]);
    assert.deepEqual(
      labels.workers.filter((w) => w.label.startsWith("shell-")).map((w) => [w.id, w.state]),
      [
        ["w4", "succeeded"],
        ["w5", "succeeded"],
        ["w6", "succeeded"],
      ],
    );
  });

  test("a worker's codex has neither Baton's MCP server nor a working baton spawn", async () => {
    // The user's config registers Baton's server (the install above did), and the worker's PATH has baton.
    const config = readFileSync(join(ws.codexHome, "config.toml"), "utf8");
    assert.match(config, /\[mcp_servers\.baton\]/);
    // Told to, the worker also drops the variables that mark it as a worker, and tries again.
    const task = `nested\n${modelScriptLine([
      shell('baton spawn "a worker of my own"'),
      shell('env -u BATON_WORKER_ID -u BATON_WORKER_MARK baton spawn "a sneaky worker" 2>&1; echo "exit=$?"'),
      say("spawn said: {{outputs:2}}"),
    ])}`;
    const id = (await ws.baton(["spawn", "--label", "nested", task], { env })).stdout.trim();
    assert.equal((await ws.baton(["wait", id], { env })).code, 0);
    const answer = (await ws.baton(["result", id], { env })).stdout;
    assert.match(answer, /workers cannot spawn workers \(this is worker w[0-9]+\)/);
    const sneaky = answer.split("\n").slice(1).join("\n");
    assert.match(sneaky, /exit=[1-9]/, `the unmarked spawn failed too: ${sneaky}`);
    assert.doesNotMatch(sneaky, /^w[0-9]+$/m, "it printed no new worker id");
    const listed = await ws.json<{ workers: { id: string }[] }>(["ls"]);
    assert.equal(listed.workers.at(-1)?.id, id, "no worker was started from inside the worker");

    const mine = ws.model.requests.filter((r) => r.userText.includes("a worker of my own"));
    assert.ok(mine.length >= 2, "the worker's requests were seen");
    for (const request of [...mine, ...workerRequests(ws)]) {
      assert.ok(
        !toolNames(request).some((name) => name.startsWith("mcp__baton")),
        "no Baton tools for a worker",
      );
      assert.ok(toolNames(request).includes("exec_command"), "the worker still has its shell");
    }
  });
});
