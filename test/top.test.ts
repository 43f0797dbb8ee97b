import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pty from "@lydell/node-pty";
import xterm from "@xterm/headless";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { busy, CLI, FIXTURES, Workspace } from "./support/harness.ts";

// `baton top` and `baton wait` in a real pseudo-terminal, read through a terminal emulator
// (@xterm/headless): what a person would see on the screen, while real codex workers run against the
// scripted model. Every wait is for something to appear, with a deadline.

const DEADLINE_MS = 60_000;

/** A command running in a terminal of `cols` x `rows`, and the screen it draws. */
class Screen {
  raw = "";
  readonly exited: Promise<number>;
  private readonly term: xterm.Terminal;
  private readonly terminal: pty.IPty;
  private readonly changed = new Set<() => void>();

  constructor(ws: Workspace, args: readonly string[], env: NodeJS.ProcessEnv = {}, cols = 160, rows = 40) {
    this.term = new xterm.Terminal({ cols, rows, allowProposedApi: true });
    this.terminal = pty.spawn(process.execPath, [CLI, ...args], {
      cwd: ws.dir,
      env: { ...ws.env, TERM: "xterm-256color", ...env } as Record<string, string>,
      cols,
      rows,
    });
    this.terminal.onData((data) => {
      this.raw += data;
      this.term.write(data, () => {
        for (const check of this.changed) check();
      });
    });
    this.exited = new Promise((resolve) => this.terminal.onExit(({ exitCode }) => resolve(exitCode)));
  }

  /** The screen's lines, as text. */
  lines(): string[] {
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < this.term.rows; i++)
      lines.push(buffer.getLine(buffer.viewportY + i)?.translateToString(true) ?? "");
    return lines;
  }

  text(): string {
    return this.lines().join("\n");
  }

  /** The line that holds `what`, once the screen shows one that `matches`. */
  async line(what: string, matches: (line: string) => boolean = () => true): Promise<string> {
    let found = "";
    await this.until(
      () => {
        found = this.lines().find((l) => l.includes(what) && matches(l)) ?? "";
        return found !== "";
      },
      `a line with ${JSON.stringify(what)}`,
    );
    return found;
  }

  /** Resolves once `check` holds for the screen; re-checked each time the screen changes. */
  until(check: () => boolean, what: string, ms = DEADLINE_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        this.changed.delete(attempt);
        clearTimeout(timer);
      };
      const attempt = () => {
        if (!check()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; the screen:\n${this.text()}`));
      }, ms);
      this.changed.add(attempt);
      attempt();
    });
  }

  press(keys: string): void {
    this.terminal.write(keys);
  }

  kill(): void {
    this.terminal.kill();
  }
}

const DOWN = "\x1b[B";
const quick = (name: string, answer: string) =>
  `${name}\n${modelScriptLine([{ type: "message", text: answer }])}`;

describe("baton top and wait in a real terminal", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  const spawned = async (args: readonly string[]) => (await ws.ok(["spawn", ...args])).trim();
  const state = async (id: string) =>
    (JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as WorkerResult).state;

  /** Moves the selection down to `id`'s row. */
  const select = async (screen: Screen, id: string) => {
    const row = (line: string) => new RegExp(`^[› ] ${id} `).test(line);
    for (let i = 0; i < 50; i++) {
      const marked = screen.lines().find((l) => l.startsWith("› "));
      if (marked && row(marked)) return;
      screen.press(DOWN);
      await screen.until(
        () => screen.lines().find((l) => l.startsWith("› ")) !== marked,
        "the selection to move",
      );
    }
    assert.fail(`could not select ${id}:\n${screen.text()}`);
  };

  test("top shows workers as they appear and their states as they change, then q quits", async () => {
    const screen = new Screen(ws, ["top"]);
    try {
      await screen.line("baton top");
      const first = await spawned(["--label", "alpha", "--role", "scout", quick("first", "first answer")]);
      const second = await spawned(["--label", "beta", quick("second", "second answer")]);
      const row = await screen.line(first);
      assert.match(row, /alpha/);
      assert.match(row, /scout/);
      assert.match(row, /codex/);
      for (const id of [first, second]) {
        const done = await screen.line(`${id} `, (l) => l.includes("succeeded"));
        const tokens = /succeeded\s+\d+(?:\.\d)?(?:ms|s)\s+([\d,]+)\s+unpriced\s+-$/.exec(done)?.[1];
        assert.ok(Number(tokens?.replaceAll(",", "")) > 0, `elapsed time, tokens and cost: ${done}`);
      }
      assert.match(screen.text(), /ID\s+LABEL\s+ROLE\s+BACKEND\s+STATE\s+ELAPSED\s+TOKENS\s+COST\s+ACTIVE/);
      screen.press("q");
      assert.equal(await screen.exited, 0);
    } finally {
      screen.kill();
    }
  });

  test("s stops the selected running worker and i interrupts another: both become canceled", async () => {
    const calm = await spawned(["--label", "calm", quick("calm", "calm answer")]);
    const [stopped, interrupted] = [
      await spawned(["--label", "busy", `busy\n${modelScriptLine(busy("echo at-work; sleep 600"))}`]),
      await spawned(["--label", "busier", `busier\n${modelScriptLine(busy("echo at-work; sleep 600"))}`]),
    ];
    const screen = new Screen(ws, ["top"]);
    try {
      for (const id of [stopped, interrupted])
        await screen.line(id, (l) => l.includes("running") && /\d+(\.\d)?(ms|s) ago/.test(l));
      await select(screen, stopped);
      screen.press("s");
      await screen.line(`${stopped} `, (l) => l.includes("canceled"));
      await screen.line(`stopped ${stopped} (busy)`);
      await select(screen, interrupted);
      screen.press("i");
      await screen.line(`sent Ctrl+C to ${interrupted} (busier)`);
      await screen.line(`${interrupted} `, (l) => l.includes("canceled"));
      assert.equal(await state(stopped), "canceled");
      const result = JSON.parse((await ws.baton(["result", interrupted, "--json"])).stdout) as WorkerResult;
      assert.deepEqual(result.reason, { kind: "stopped", by: "user", via: "interrupt" });
      await screen.line(calm, (l) => l.includes("succeeded"));
      screen.press("\x03"); // Ctrl+C quits too
      assert.equal(await screen.exited, 0);
    } finally {
      screen.kill();
    }
  });

  test("r shows the result, enter the readable transcript, and worker text reaches the screen as text", async () => {
    const label = "bidi\u202elabel";
    const hostile = await spawned([
      "--label",
      label,
      "--codex-bin",
      join(FIXTURES, "escape-agent.mjs"),
      "go",
    ]);
    await ws.ok(["plan", "set", "Scout\x1b[2J the parser", "Fix it", "Test it"]);
    const screen = new Screen(ws, ["top"]);
    try {
      await screen.line("[>] Scout\\x1b[2J the parser");
      await screen.line(hostile, (l) => l.includes("bidi\\u202elabel") && l.includes("succeeded"));
      await select(screen, hostile);
      screen.press("r");
      await screen.line("result: succeeded");
      await screen.line("answer: clear\\x1b[2J title\\x1b]0;pwned\\x07 csi\\x9b31m");
      screen.press("\x1b");
      await screen.line("baton top");
      screen.press("\r");
      await screen.line("transcript");
      await screen.line("final answer:");
      screen.press("q");
      await screen.line("baton top");
      screen.press("q");
      assert.equal(await screen.exited, 0);
      // Ink's and Baton's own sequences only: no worker byte that a terminal would act on.
      assert.ok(!screen.raw.includes("\x1b[2J the parser"), "the plan step's escape reached the terminal");
      assert.ok(!screen.raw.includes("\x1b]0;pwned"), "the answer's title change reached the terminal");
      assert.ok(
        !/[\u202a-\u202e\u2066-\u2069\x9b]/.test(screen.raw),
        "a bidi or C1 control reached the terminal",
      );
    } finally {
      screen.kill();
      await ws.ok(["plan", "set", "Done"]);
    }
  });

  test("top shows a pattern run's plan and the step it is at, then how it ended", async () => {
    const answer = JSON.stringify({ summary: "nothing found", findings: [] });
    const task = `Review slowly\n${modelScriptLine([
      { type: "shell", command: "sleep 3" },
      { type: "message", text: answer },
    ])}`;
    const screen = new Screen(ws, ["top"]);
    try {
      await screen.line("baton top");
      const run = ws.baton(["run", "review", "--lens", "security", "--lens", "correctness", task]);
      const line = await screen.line("review", (l) => /^ {2}r\d+\s+review\s+running\s+step: \S/.test(l));
      const id = /r\d+/.exec(line)?.[0] ?? "";
      await screen.line(`Run ${id} (review):`);
      await screen.line("[>] ");
      const ran = await run;
      const { state } = JSON.parse(readFileSync(join(ws.home, "runs", id, "run.json"), "utf8")) as {
        state: string;
      };
      assert.equal(state, ran.code === 0 ? "succeeded" : state, ran.stderr);
      await screen.line(id, (l) =>
        new RegExp(`^ {2}${id}\\s+review\\s+${state}\\s+finished step: .*ended`).test(l),
      );
      screen.press("q");
      assert.equal(await screen.exited, 0);
    } finally {
      screen.kill();
    }
  });

  test("top colours states, and not with NO_COLOR", async () => {
    const coloured = new Screen(ws, ["top"]);
    const plain = new Screen(ws, ["top"], { NO_COLOR: "1" });
    try {
      // A worker's row, not the summary line above the rows (which also says "succeeded").
      for (const screen of [coloured, plain])
        await screen.line("succeeded", (l) => /^[› ] w\d+ .*\bsucceeded\b/.test(l));
      assert.match(coloured.raw, /\x1b\[32msucceeded/, "succeeded in green");
      assert.doesNotMatch(
        plain.raw,
        /\x1b\[(?:[0-9;]*;)?(?:3[0-9]|9[0-7]|4[0-9]|7)(?:;[0-9;]*)?m/,
        "no colour",
      );
      coloured.press("q");
      plain.press("q");
      assert.equal(await coloured.exited, 0);
      assert.equal(await plain.exited, 0);
    } finally {
      coloured.kill();
      plain.kill();
    }
  });

  test("top refuses to run without a terminal, in one line", async () => {
    const result = await ws.baton(["top"]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^baton: top needs a terminal, .*`baton watch`.*`baton ls`.*\n$/);
  });

  test("wait on a terminal shows a live line per worker, then takes it away for the outcome", async () => {
    const slow = await spawned([
      "--label",
      "slowpoke",
      `slow\n${modelScriptLine([
        { type: "shell", command: "sleep 4" },
        { type: "message", text: "slow answer" },
      ])}`,
    ]);
    const screen = new Screen(ws, ["wait", slow]);
    try {
      await screen.line(slow, (l) => /slowpoke\s+running\s+\d+(\.\d)?s\s+[\d,]+ tokens/.test(l));
      assert.equal(await screen.exited, 0, screen.text());
      await screen.line(`${slow} (slowpoke) succeeded`);
      assert.ok(!screen.lines().some((l) => /slowpoke\s+running/.test(l)), "the live line is gone");
    } finally {
      screen.kill();
    }
  });

  test("run on a terminal shows a live line per worker of the run under its step lines, then takes them away", async () => {
    const answer = JSON.stringify({ summary: "nothing found", findings: [] });
    const task = `Review slowly\n${modelScriptLine([
      { type: "shell", command: "sleep 4" },
      { type: "message", text: answer },
    ])}`;
    const other = await spawned(["--label", "bystander", `other\n${modelScriptLine(busy("sleep 600"))}`]);
    const screen = new Screen(ws, ["run", "review", "--lens", "security", "--lens", "correctness", task]);
    try {
      // The step's line, and under it the run's own reviewers running, live; never the bystander.
      await screen.line("Review through", (l) => /▶ Review through security, correctness/.test(l));
      await screen
        .line("security", (l) =>
          /^w\d+\s+r\d+:review-security\s+running\s+\d+(\.\d)?s\s+[\d,]+ tokens/.test(l),
        )
        .catch(async (error: Error) => {
          // A reviewer that ended before its `sleep 4` did: what its agent did is the clue.
          const { workers } = await ws.json<{ workers: { id: string; label?: string }[] }>(["ls"]);
          const reviewers = workers.filter((w) => w.label?.includes("review-"));
          const logs = await Promise.all(reviewers.map((w) => ws.baton(["logs", w.id, "--raw"])));
          throw new Error(`${error.message}\n${logs.map((l) => l.stdout).join("\n")}`);
        });
      await screen.line("correctness", (l) => /^w\d+\s+r\d+:review-correctness\s+running/.test(l));
      assert.ok(!screen.lines().some((l) => l.includes("bystander")), "only the run's own workers");
      assert.equal(await screen.exited, 0, screen.text());
      await screen.line("saved in");
      assert.ok(
        !screen.lines().some((l) => /^w\d+\s+r\d+:\S+\s+(running|succeeded)\s+\d/.test(l)),
        `the live lines are gone:\n${screen.text()}`,
      );
    } finally {
      screen.kill();
      await ws.ok(["stop", other]);
    }
  });

  test("wait into a pipe prints each worker's line as it ends", async () => {
    const fast = await spawned(["--label", "fast", quick("fast", "fast answer")]);
    const slow = await spawned(["--label", "slow", `slow\n${modelScriptLine(busy("sleep 600"))}`]);
    const child = spawn(process.execPath, [CLI, "wait", slow, fast], { cwd: ws.dir, env: ws.env });
    let out = "";
    const code = new Promise<number | null>((resolve) => child.on("exit", resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line for ${fast}: ${out}`)), DEADLINE_MS);
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes(`${fast} (fast) succeeded\n`)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    assert.equal(child.exitCode, null, "the line came while the wait went on");
    assert.doesNotMatch(out, new RegExp(slow));
    await ws.ok(["stop", slow]);
    assert.equal(await code, 1);
    assert.equal(out, `${fast} (fast) succeeded\n${slow} (slow) canceled: stopped by the user\n`);
  });

  test("baton ls does not load Ink or React", async () => {
    const log = join(ws.dir, "loaded.txt");
    writeFileSync(log, "");
    const hooks = `data:text/javascript,${encodeURIComponent(
      `import { appendFileSync } from "node:fs";
      export async function resolve(specifier, context, next) {
        appendFileSync(${JSON.stringify(log)}, specifier + "\\n");
        return next(specifier, context);
      }`,
    )}`;
    const register = `data:text/javascript,${encodeURIComponent(
      `import { register } from "node:module"; register(${JSON.stringify(hooks)});`,
    )}`;
    const env = { ...ws.env, NODE_OPTIONS: `--import=${register}` };
    const listed = await ws.baton(["ls"], { env });
    assert.equal(listed.code, 0, listed.stderr);
    const loaded = readFileSync(log, "utf8").split("\n");
    assert.ok(
      loaded.some((s) => s.includes("commander") || s.includes("main.js")),
      "the hook saw the CLI load",
    );
    assert.deepEqual(
      loaded.filter((s) => /^(ink|react)(\/|$)/.test(s)),
      [],
    );
  });
});
