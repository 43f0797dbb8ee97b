import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { splitCommandLine } from "../dist/backend/argv.js";
import { ParagraphParser } from "../dist/backend/command.js";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { workerProcesses } from "./support/faults.ts";
import { FIXTURES, Workspace } from "./support/harness.ts";

// Any program as a worker (`--backend command --cmd "..."`): tiny fixture scripts in a real terminal,
// inside Baton's sandbox, with the prompt on stdin, the answer from $BATON_ANSWER_FILE or the last
// paragraph, success from the exit code.

const fixture = (name: string) => join(FIXTURES, name);

describe("splitting a command line without a shell", () => {
  test("words, quotes and escapes split as a shell splits them", () => {
    assert.deepEqual(splitCommandLine("my-agent --flag  'two words'"), ["my-agent", "--flag", "two words"]);
    assert.deepEqual(splitCommandLine(`a "b \\"c\\" \\$d" e\\ f ''`), ["a", 'b "c" $d', "e f", ""]);
    assert.deepEqual(splitCommandLine("x=~ a#b 'a|b' \"*\""), ["x=~", "a#b", "a|b", "*"]);
  });

  test("what only a shell would do is refused in one line that says so", () => {
    for (const [line, why] of [
      ["agent | tee out", /\| means something only to a shell/],
      ["agent > out", /> means something only to a shell/],
      ["agent $HOME", /\$ means something only to a shell/],
      ['agent "$HOME"', /shell expansion/],
      ["agent ~/x", /~ means something only to a shell/],
      ["agent 'open", /quote is never closed/],
      ["agent \\", /lone \\/],
      ["   ", /give the program/],
    ] as const) {
      assert.throws(() => splitCommandLine(line), why, line);
    }
  });
});

describe("the last paragraph of a command's output", () => {
  test("is the lines after the last blank line, colours removed, once the output ends", () => {
    const parser = new ParagraphParser();
    for (const line of ["first", "", "  ", "\x1b[32msecond\x1b[0m", "third  ", ""]) {
      assert.deepEqual(parser.line(line), []);
    }
    assert.deepEqual(parser.end(), [{ type: "message", text: "second\nthird" }]);
    const silent = new ParagraphParser();
    assert.deepEqual(silent.end(), [], "nothing printed: no answer");
  });
});

describe("command workers", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  const resultOf = async (id: string) =>
    JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult;

  test("the answer is the file the command wrote at $BATON_ANSWER_FILE, in its own folder", async () => {
    const ids = (
      await ws.ok([
        "spawn",
        "--cmd",
        fixture("answer-file-command.sh"),
        "--task",
        "first task",
        "--task",
        "second task",
      ])
    )
      .trim()
      .split("\n");
    const waited = await ws.baton(["wait", ...ids]);
    assert.equal(waited.code, 0, waited.stdout + waited.stderr);
    for (const [i, id] of ids.entries()) {
      const result = await resultOf(id);
      assert.equal(result.state, "succeeded");
      assert.equal(result.answerSource, "last-message-file");
      assert.match(result.answer, new RegExp(`^answer for .*${i === 0 ? "first" : "second"} task`));
      assert.ok(
        result.answer.endsWith(`(file in ${join(ws.home, "workers", id)})`),
        "its answer file lies in its own store folder",
      );
      assert.equal(result.confinement, "baton", "inside Baton's sandbox");
      assert.deepEqual(
        [result.usage.inputTokens, result.usage.outputTokens],
        [0, 0],
        "a command reports no tokens",
      );
      // Confined, its TMPDIR was its sandbox's own: what it left there never reached the disk.
      assert.ok(!existsSync(join(ws.home, "workers", id, "tmp")), "its TMPDIR is gone");
      // Once read, the answer file is emptied where it is: the agent's unredacted words leave the disk.
      assert.equal(readFileSync(join(ws.home, "workers", id, "last-message.txt"), "utf8"), "");
    }
    const listed = await ws.json<{ workers: { id: string; backend?: string }[] }>(["ls"]);
    assert.deepEqual(
      listed.workers.filter((w) => ids.includes(w.id)).map((w) => w.backend),
      ["command", "command"],
    );
  });

  test("unconfined, its TMPDIR is a folder of its own in the store, removed once it has ended", async () => {
    const id = (
      await ws.ok([
        "spawn",
        "--cmd",
        fixture("answer-file-command.sh"),
        "--write",
        "out.txt",
        "--unconfined",
        "t",
      ])
    ).trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const result = await resultOf(id);
    assert.equal(result.confinement, "unconfined");
    assert.match(result.answer, new RegExp(`^answer for .*t \\(file in ${join(ws.home, "workers", id)}\\)$`));
    assert.ok(
      !existsSync(join(ws.home, "workers", id, "tmp")),
      "its TMPDIR and the file it left there are gone",
    );
  });

  test("without an answer file, the answer is the last paragraph it printed", async () => {
    const id = (await ws.ok(["spawn", "--cmd", fixture("paragraph-command.sh"), "say two lines"])).trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const result = await resultOf(id);
    assert.equal(result.state, "succeeded");
    assert.equal(result.answer, "the last paragraph,\non two lines");
    assert.equal(result.answerSource, "events");
    assert.equal((await ws.ok(["result", id])).trim(), "the last paragraph,\non two lines");
    assert.match(await ws.ok(["logs", id]), /working\.\.\.\nstep 1 done/, "baton logs shows what it printed");
    // It reports no tokens: what it cost is not known, which is not $0.
    assert.equal(result.cost?.source, "unpriced", JSON.stringify(result.cost));
    const budget = await ws.baton([
      "spawn",
      "--cmd",
      fixture("paragraph-command.sh"),
      "--max-cost",
      "1",
      "x",
    ]);
    assert.equal(budget.code, 2, budget.stderr);
    assert.match(
      budget.stderr,
      /^baton: --max-cost needs a price, and a command worker reports no tokens to price/,
    );
  });

  test("a non-zero exit fails the worker, with what it said; it is not run again", async () => {
    const id = (
      await ws.ok(["spawn", "--backend", "command", "--cmd", fixture("failing-command.sh"), "fail please"])
    ).trim();
    assert.equal((await ws.baton(["wait", id])).code, 1);
    const result = await resultOf(id);
    assert.equal(result.state, "failed");
    assert.equal(result.exitCode, 3);
    assert.deepEqual(result.reason, {
      kind: "exit",
      exitCode: 3,
      message: "the command exited 3: could not do it: the widget is missing",
    });
    assert.equal(result.retries, 0, "a command's own failure is not transient");
  });

  test("stop ends the command and what it started", async () => {
    const id = (await ws.ok(["spawn", "--cmd", fixture("busy-command.sh"), "be busy"])).trim();
    await ws.printed(id, /busy: child \d+\r?\n/);
    // The pid it prints is its sandbox's own (a process namespace); the host's is found by its marker.
    const sleeps = workerProcesses(ws, id).filter((pid) => commandOf(pid) === "sleep");
    assert.equal(sleeps.length, 1, "its child runs");
    const child = sleeps[0]!;
    assert.ok(running(child), "its child runs");
    const stopped = await ws.baton(["stop", id, "--grace", "1"]);
    assert.equal(stopped.code, 0, stopped.stderr);
    const result = await resultOf(id);
    assert.equal(result.state, "canceled");
    assert.ok(!running(child), "its child is gone too");
    assert.deepEqual(workerProcesses(ws, id), [], "nothing of it is left running");
  });

  test("a program that is not there, or a --cmd a shell would be needed for, is one line", async () => {
    const missing = await ws.baton(["spawn", "--cmd", "no-such-agent-xyz --flag", "x"]);
    assert.notEqual(missing.code, 0);
    assert.match(
      missing.stderr.trim(),
      /^baton: --cmd: "no-such-agent-xyz" was not found on PATH or in node_modules\/\.bin: install it, or give its path/,
    );
    assert.equal(missing.stderr.trim().split("\n").length, 1);
    const piped = await ws.baton(["spawn", "--cmd", "agent | tee out", "x"]);
    assert.match(piped.stderr, /\| means something only to a shell/);
    const wrong = await ws.baton(["spawn", "--backend", "claude", "--cmd", "agent", "x"]);
    assert.match(wrong.stderr, /--cmd and --agent-cmd are for --backend command and --backend acp/);
    assert.deepEqual(
      readdirSync(join(ws.home, "workers")).filter((id) => !/^w[1-6]$/.test(id)),
      [],
      "no worker was made for them",
    );
  });
});

/** Whether `pid` runs (a zombie that no one has reaped yet has ended). */
function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "latin1").trim();
  } catch {
    return undefined;
  }
}

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
