import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { PlanStore } from "../dist/plan/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { CLI, connectMcp, type RunResult, Workspace } from "./support/harness.ts";

// Inputs have sane sizes, and every way in says so in one line: the CLI, the library, the MCP tools and
// a request written straight to the supervisor's socket. Malformed MCP arguments get the usual tool error.

const MiB = 1024 * 1024;

/** One line on stderr, starting `baton: `, matching `pattern`; no stack trace; exit 2. */
function assertOneLineError(result: RunResult, pattern: RegExp): void {
  assert.equal(result.code, 2, `exit 2: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line: ${JSON.stringify(result.stderr.slice(0, 500))}`);
  assert.match(lines[0]!, /^baton: /);
  assert.doesNotMatch(result.stderr, /\n\s+at |unexpected error/);
  assert.match(lines[0]!, pattern);
}

interface ToolReply {
  readonly isError?: boolean;
  readonly content: { type: string; text: string }[];
}

/** A tool error of one line that matches `pattern` and, unless told otherwise, shows a correct call. */
function assertToolError(reply: ToolReply, pattern: RegExp, showsCall = true): void {
  assert.equal(reply.isError, true, JSON.stringify(reply));
  const text = reply.content[0]?.text ?? "";
  assert.equal(text.includes("\n"), false, `one line: ${text.slice(0, 300)}`);
  assert.match(text, pattern);
  if (showsCall) assert.match(text, /Call it like: \{/);
}

const steps = (n: number, text = (i: number) => `step ${i + 1}`) =>
  Array.from({ length: n }, (_, i) => ({ step: text(i), status: i === 0 ? "in_progress" : "pending" }));

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly error?: { code: string; message: string };
}

/** Sends `requests` to the supervisor's socket after a hello, as any local program could; their replies. */
function onSocket(home: string, requests: readonly { method: string; params: unknown }[]): Promise<Reply[]> {
  const { socket: path } = JSON.parse(readFileSync(join(home, "supervisor.json"), "utf8")) as {
    socket: string;
  };
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(path);
    const replies: Reply[] = [];
    let buffer = "";
    socket.on("error", reject);
    socket.on("connect", () => {
      socket.write(`${JSON.stringify({ id: 0, method: "hello", params: { pid: process.pid } })}\n`);
      requests.forEach((request, index) => {
        socket.write(`${JSON.stringify({ id: index + 1, ...request })}\n`);
      });
    });
    socket.on("data", (data) => {
      buffer += data.toString("utf8");
      for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
        const reply = JSON.parse(buffer.slice(0, i)) as Reply;
        buffer = buffer.slice(i + 1);
        if (reply.id !== 0) replies.push(reply);
      }
      if (replies.length === requests.length) {
        socket.end();
        resolve(replies.sort((a, b) => a.id - b.id));
      }
    });
  });
}

/** `baton mcp` spoken to in raw JSON-RPC lines, for what the SDK's client will not send. */
class RawMcp {
  private buffer = "";
  private readonly waiting = new Map<number, (reply: unknown) => void>();

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on("data", (data: Buffer) => {
      this.buffer += data.toString("utf8");
      for (let i = this.buffer.indexOf("\n"); i >= 0; i = this.buffer.indexOf("\n")) {
        const reply = JSON.parse(this.buffer.slice(0, i)) as { id?: number };
        this.buffer = this.buffer.slice(i + 1);
        if (typeof reply.id === "number") this.waiting.get(reply.id)?.(reply);
      }
    });
  }

  static async start(ws: Workspace): Promise<RawMcp> {
    const child = spawn(process.execPath, [CLI, "mcp"], { cwd: ws.dir, env: ws.env, stdio: "pipe" });
    const mcp = new RawMcp(child);
    await mcp.request(1, "initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "raw", version: "1" },
    });
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
    return mcp;
  }

  request(id: number, method: string, params: unknown): Promise<unknown> {
    const reply = new Promise<unknown>((resolve) => this.waiting.set(id, resolve));
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    return reply;
  }

  close(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin.end();
    return exited;
  }
}

describe("input limits", () => {
  let ws: Workspace;
  let mcp: Client;
  const callTool = async (name: string, args: Record<string, unknown>) =>
    (await mcp.callTool({ name, arguments: args })) as ToolReply;

  before(async () => {
    ws = await Workspace.create(directiveScript());
    mcp = await connectMcp(ws);
    await ws.ok(["ls"]); // starts the supervisor, for the requests written straight to its socket
    await ws.ok(["plan", "set", "Keep me", "And me", "Me too"]);
  });
  after(async () => {
    await mcp.close();
    await ws.cleanup();
  });

  const planUnchanged = async () =>
    assert.deepEqual(
      (await ws.json<{ steps: { step: string }[] }>(["plan", "show"])).steps.map((s) => s.step),
      ["Keep me", "And me", "Me too"],
    );

  test("a plan of 10,000 steps is refused in one line by plan set, plan update and MCP plan_update", async () => {
    const limit = /the plan has 10,000 steps, more than the 50 a plan may have: merge them into 3 to 6/;
    const texts = steps(10_000).map((s) => s.step);
    assertOneLineError(await ws.baton(["plan", "set", ...texts]), limit);
    const update = JSON.stringify({ plan: steps(10_000) });
    assertOneLineError(await ws.baton(["plan", "update"], { input: update }), limit);
    assertToolError(await callTool("plan_update", { plan: steps(10_000) }), limit, false);
    await planUnchanged();
  });

  test("a 50 MB step is refused in one line by plan update, MCP plan_update and the library", async () => {
    const huge = "x".repeat(50 * MiB);
    const update = JSON.stringify({ plan: [{ step: huge, status: "in_progress" }] });
    assertOneLineError(
      await ws.baton(["plan", "update"], { input: update }),
      /the plan update on stdin is 50\.0 MiB, more than 1\.0 MiB: a plan has at most 50 steps of at most 2,000 characters/,
    );
    const limit =
      /step 1 is 52,428,800 characters, more than the 2,000 a step may have: keep each step to one/;
    assertToolError(
      await callTool("plan_update", { plan: [{ step: huge, status: "in_progress" }] }),
      limit,
      false,
    );
    await assert.rejects(
      new PlanStore(ws.home).update({ plan: [{ step: huge, status: "in_progress" }] }),
      (e) => limit.test((e as Error).message),
    );
    await assert.rejects(
      new PlanStore(ws.home).update({ explanation: "y".repeat(10_001), plan: steps(3) }),
      /the explanation is 10,001 characters, more than the 10,000 it may have/,
    );
    await planUnchanged();
  });

  test("a plan at the limits, 50 steps of 2,000 characters, is accepted with a warning", async () => {
    const update = JSON.stringify({ plan: steps(50, (i) => `${i}`.padEnd(2000, "z")) });
    const result = await ws.baton(["plan", "update", "--json"], { input: update });
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { plan: { steps: unknown[] } }).plan.steps.length, 50);
    assert.match(result.stderr, /the plan has 50 steps; 3 to 6 is the recommended size/);
    await ws.ok(["ls"]); // starts the supervisor, for the requests written straight to its socket
    await ws.ok(["plan", "set", "Keep me", "And me", "Me too"]);
  });

  test("a prompt over 16 MiB is refused in one line by spawn, the MCP spawn tool and a direct socket request", async () => {
    const task = "t".repeat(17 * MiB);
    assertOneLineError(
      await ws.baton(["spawn", "-"], { input: task }),
      /the prompt on stdin is 17\.0 MiB, more than the 16\.0 MiB a prompt may be: point the worker to files/,
    );
    assertToolError(
      await callTool("spawn", { task }),
      /^spawn: field "task": the task is 17\.0 MiB, more than the 16\.0 MiB it may be/,
    );
    const [reply] = await onSocket(ws.home, [{ method: "spawn", params: { task, cwd: ws.dir, env: {} } }]);
    assert.equal(reply?.ok, false);
    assert.equal(reply?.error?.code, "usage");
    assert.match(
      reply?.error?.message ?? "",
      /^task: the task is 17\.0 MiB, more than the 16\.0 MiB it may be/,
    );
    const listed = await ws.json<{ workers: unknown[] }>(["ls"]);
    assert.equal(listed.workers.length, 0, "no worker was started");
  });

  test("the socket refuses oversized fields that a direct request could carry past the CLI", async () => {
    const spawnWith = (extra: Record<string, unknown>) => ({
      method: "spawn",
      params: { task: "x", cwd: ws.dir, env: {}, ...extra },
    });
    const replies = await onSocket(ws.home, [
      spawnWith({ label: "l".repeat(201) }),
      spawnWith({ label: "c1\x9bcsi" }),
      spawnWith({ write: Array.from({ length: 1001 }, (_, i) => `/tmp/p${i}`) }),
      spawnWith({ write: [`/${"p".repeat(5000)}`] }),
      spawnWith({ model: "m".repeat(201) }),
      spawnWith({ model: " " }),
      spawnWith({ model: "gpt\x1b[2J" }),
      spawnWith({ label: "" }),
      spawnWith({ prompt: "p".repeat(17 * MiB) }),
      { method: "send", params: { id: "w1", text: "s".repeat(2 * MiB) } },
      { method: "wait", params: { ids: Array.from({ length: 10_001 }, (_, i) => `w${i + 1}`) } },
    ]);
    const expected = [
      /^label: the label is longer than 200 characters$/,
      /^label: the label contains control characters$/,
      /^write: give at most 1000 write paths$/,
      /^write\.0: a path is longer than 4096 characters$/,
      /^model: must be at most 200 characters$/,
      /^model: must not be empty: give a name, or leave the option out$/,
      /^model: must not contain control characters$/,
      /^label: the label is empty: give a name, or leave --label out$/,
      /^prompt: the prompt is 17\.0 MiB, more than the 16\.0 MiB it may be/,
      /^text: the text is 2\.0 MiB, more than the 1\.0 MiB it may be: send less at a time$/,
      /^ids: name at most 10000 workers$/,
    ];
    for (const [index, pattern] of expected.entries()) {
      const reply = replies[index];
      assert.equal(reply?.ok, false, JSON.stringify(reply));
      assert.equal(reply?.error?.code, "usage");
      assert.match(reply?.error?.message ?? "", pattern);
    }
    assert.equal((await ws.json<{ workers: unknown[] }>(["ls"])).workers.length, 0, "no worker was started");
  });

  test("MCP string and list arguments are bounded, each refused with a one-line tool error that shows a call", async () => {
    assertToolError(
      await callTool("spawn", { task: "x", lens: "l".repeat(201) }),
      /field "lens": must be at most 200/,
    );
    assertToolError(
      await callTool("spawn", {
        task: "x",
        context: { pointers: Array.from({ length: 101 }, () => "README.md") },
      }),
      /field "context\.pointers": must have at most 100 items/,
    );
    assertToolError(
      await callTool("spawn", { task: "x", context: { goal: "g".repeat(10_001) } }),
      /field "context\.goal": must be at most 10000 characters/,
    );
    assertToolError(
      await callTool("send", { id: "w1", text: "s".repeat(2 * MiB) }),
      /field "text": the text is 2\.0 MiB, more than the 1\.0 MiB/,
    );
    assertToolError(
      await callTool("run_pattern", {
        pattern: "research",
        task: "q",
        questions: Array.from({ length: 101 }, (_, i) => `q${i}`),
      }),
      /field "questions": must have at most 100 items/,
    );
    assert.equal((await ws.json<{ workers: unknown[] }>(["ls"])).workers.length, 0, "no worker was started");
  });

  test("an MCP call over 64 MiB gets a one-line tool error, and the session goes on", async () => {
    const reply = await callTool("spawn", { task: "t".repeat(70 * MiB) });
    assertToolError(reply, /^the request is 70\.0 MiB, more than the 64\.0 MiB baton mcp reads/, false);
    const shown = await callTool("plan_show", {});
    assert.match(shown.content[0]?.text ?? "", /Keep me/);
  });

  test("the MCP server answers arguments that are null, an array, a string or a number with its one-line tool error", async () => {
    const raw = await RawMcp.start(ws);
    try {
      const cases: [unknown, string][] = [
        [null, "null"],
        [["w1"], "an array"],
        ["w1", "a string"],
        [7, "a number"],
      ];
      let id = 10;
      for (const [args, kind] of cases) {
        for (const name of ["result", "plan_show"]) {
          const reply = (await raw.request(id++, "tools/call", { name, arguments: args })) as {
            result?: ToolReply;
            error?: unknown;
          };
          assert.equal(reply.error, undefined, `no protocol error: ${JSON.stringify(reply.error)}`);
          assert.ok(reply.result, JSON.stringify(reply));
          assertToolError(
            reply.result,
            new RegExp(`^${name}: the arguments must be a JSON object, got ${kind}\\.`),
          );
        }
      }
      // Arguments left out are no arguments, as the MCP spec has it; the server still answers.
      const shown = (await raw.request(id++, "tools/call", { name: "plan_show" })) as { result: ToolReply };
      assert.equal(shown.result.isError, undefined);
      assert.match(shown.result.content[0]?.text ?? "", /Keep me/);
    } finally {
      await raw.close();
    }
  });
});
