import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { directiveScript } from "../dist/scripted-model/index.js";
import { CLI, FIXTURES, type RunResult, runNode, Workspace } from "./support/harness.ts";

/** One line on stderr, naming the problem, and no stack trace. */
function assertOneLineError(result: RunResult, pattern: RegExp, code?: number): void {
  assert.notEqual(result.code, 0, "exits non-zero");
  if (code !== undefined) assert.equal(result.code, code);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line: ${JSON.stringify(result.stderr)}`);
  assert.match(lines[0]!, /^baton: /);
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  assert.match(lines[0]!, pattern);
}

describe("bad input gets a one-line error and a non-zero exit", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  test("an unknown worker id", async () => {
    assertOneLineError(await ws.baton(["result", "w999"]), /no worker "w999".*baton ls/, 1);
    assertOneLineError(await ws.baton(["poll", "w999"]), /no worker "w999"/);
    assertOneLineError(await ws.baton(["logs", "w999"]), /no worker "w999"/);
  });

  test("an id that is not an id", async () => {
    assertOneLineError(
      await ws.baton(["result", "../../etc/passwd"]),
      /not a worker id|worker ids look like/,
      2,
    );
  });

  test("an unknown flag", async () => {
    assertOneLineError(await ws.baton(["spawn", "--frobnicate", "task"]), /unknown option '--frobnicate'/, 2);
    assertOneLineError(await ws.baton(["nonsense"]), /unknown command 'nonsense'/, 2);
  });

  test("an empty prompt", async () => {
    assertOneLineError(await ws.baton(["spawn", "   "]), /prompt is empty/, 2);
    assertOneLineError(await ws.baton(["spawn", "-"], { input: "" }), /prompt is empty/, 2);
  });

  test("bad numbers", async () => {
    assertOneLineError(
      await ws.baton(["spawn", "--timeout", "-5", "x"]),
      /--timeout must be a positive number/,
      2,
    );
    assertOneLineError(
      await ws.baton(["spawn", "--timeout", "0", "x"]),
      /--timeout must be a positive number/,
      2,
    );
    assertOneLineError(await ws.baton(["spawn", "--max-parallel", "0", "x"]), /--max-parallel must be/, 2);
    assertOneLineError(
      await ws.baton(["spawn", "--max-parallel", "100000", "x"]),
      /--max-parallel must be at most 1024/,
      2,
    );
    assertOneLineError(await ws.baton(["poll", "w1", "--max-bytes", "abc"]), /--max-bytes must be/, 2);
  });

  test("a missing codex binary says how to install it", async () => {
    const env = { ...ws.env, PATH: "/usr/bin:/bin" };
    delete env.BATON_CODEX_BIN;
    const cwd = join(ws.dir, "empty");
    mkdirSync(cwd);
    const result = await runNode([CLI, "spawn", "--cwd", cwd, "task"], { env, cwd: "/" });
    assertOneLineError(result, /codex was not found: install it with `npm install -g @openai\/codex`/);
    assertOneLineError(
      await ws.baton(["spawn", "--codex-bin", "/nope/codex", "task"]),
      /codex binary \/nope\/codex does not exist.*npm install -g @openai\/codex/,
    );
  });

  test("a read-only worker cannot also write", async () => {
    assertOneLineError(
      await ws.baton(["spawn", "--read-only", "--write", "a.txt", "x"]),
      /exclude each other/,
      2,
    );
  });

  test("a --cwd that does not exist", async () => {
    assertOneLineError(
      await ws.baton(["spawn", "--cwd", "/no/such/dir", "x"]),
      /--cwd \/no\/such\/dir is not a folder/,
    );
  });

  test("result of a running worker says so and exits non-zero", async () => {
    const id = (await ws.ok(["spawn", "--codex-bin", join(FIXTURES, "idle-agent.sh"), "idle"])).trim();
    assertOneLineError(
      await ws.baton(["result", id]),
      new RegExp(`worker ${id} is still (queued|running).*baton wait ${id}`),
    );
    await ws.ok(["stop", id, "--grace", "0"]);
  });

  test("an unwritable store", async () => {
    // chmod alone does not stop root; the immutable attribute does.
    const lock = (dir: string) => {
      chmodSync(dir, 0o500);
      if (process.getuid?.() === 0) execFileSync("chattr", ["+i", dir]);
    };
    const unlock = (dir: string) => {
      if (process.getuid?.() === 0) execFileSync("chattr", ["-i", dir]);
      chmodSync(dir, 0o700);
    };
    const parent = join(ws.dir, "locked-parent");
    const existing = join(ws.dir, "locked-store");
    mkdirSync(parent);
    mkdirSync(join(existing, "workers"), { recursive: true });
    lock(parent);
    lock(existing);
    try {
      for (const home of [join(parent, ".baton"), existing]) {
        const result = await ws.baton(["ls"], { env: { ...ws.env, BATON_HOME: home } });
        assertOneLineError(result, /run store .* is not writable: .*BATON_HOME/);
      }
    } finally {
      unlock(parent);
      unlock(existing);
    }
  });

  test("a second supervisor for the same workspace", async () => {
    await ws.ok(["ls"]); // makes sure one is running
    const second = await ws.baton(["supervisor"]);
    assertOneLineError(second, /a supervisor is already running for .*baton shutdown/);
  });
});
