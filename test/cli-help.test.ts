import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, type RunResult, runNode } from "./support/harness.ts";

// The real CLI, as a new user meets it. None of these needs a supervisor, and none starts one.

describe("help for a new user", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const baton = (args: readonly string[]) => runNode([CLI, ...args], { env, cwd: dir });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "baton-help-"));
    env = { ...process.env, BATON_HOME: join(dir, ".baton") };
  });
  after(() => {
    assert.equal(existsSync(join(dir, ".baton")), false, "no help or usage error made a store");
    rmSync(dir, { recursive: true, force: true });
  });

  /** The help on stdout, nothing on stderr, exit 0. */
  function assertHelp(result: RunResult, usage: RegExp): void {
    assert.equal(result.stderr, "");
    assert.equal(result.code, 0);
    assert.match(result.stdout, usage);
  }

  /** One line on stderr that points at the command's --help, exit 2, no stack trace. */
  function assertPointsAtHelp(result: RunResult, line: string): void {
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.equal(result.stderr, `${line}\n`);
  }

  test("`baton` alone prints the help and exits 0", async () => {
    const alone = await baton([]);
    assertHelp(alone, /^Usage: baton \[options\] \[command\]/);
    for (const command of ["spawn", "ls", "poll", "wait", "result", "shutdown", "plan", "run", "skill"]) {
      assert.match(alone.stdout, new RegExp(`^  ${command}\\b`, "m"), `lists ${command}`);
    }
    assert.equal(alone.stdout, (await baton(["--help"])).stdout, "the same as baton --help");
  });

  for (const group of ["skill", "plan", "run"]) {
    test(`\`baton ${group}\` alone prints its own help and exits 0`, async () => {
      const alone = await baton([group]);
      assertHelp(alone, new RegExp(`^Usage: baton ${group} `));
      assert.equal(
        alone.stdout,
        (await baton([group, "--help"])).stdout,
        `the same as baton ${group} --help`,
      );
    });
  }

  test("a missing argument names it, or what to give, and points at that command's --help", async () => {
    const cases: [string[], string][] = [
      [["result"], "baton: give a worker id, several, or --all (see `baton result --help`)"],
      [["poll"], "baton: missing argument 'id' (see `baton poll --help`)"],
      [["logs"], "baton: missing argument 'id' (see `baton logs --help`)"],
      [["send", "w1"], "baton: missing argument 'text' (see `baton send --help`)"],
      [
        ["spawn"],
        "baton: give a task: `baton spawn TEXT`, `--task TEXT` (repeat for more), or `--tasks FILE` (see `baton spawn --help`)",
      ],
      [["plan", "set"], "baton: missing argument 'steps' (see `baton plan set --help`)"],
      [["run", "review"], "baton: missing argument 'task' (see `baton run review --help`)"],
    ];
    for (const [args, line] of cases) assertPointsAtHelp(await baton(args), line);
  });

  test("an unknown option or command points at the help of the command it was given to", async () => {
    assertPointsAtHelp(
      await baton(["result", "--bogus", "w1"]),
      "baton: unknown option '--bogus' (see `baton result --help`)",
    );
    assertPointsAtHelp(
      await baton(["skill", "install", "--bogus"]),
      "baton: unknown option '--bogus' (see `baton skill install --help`)",
    );
    assertPointsAtHelp(
      await baton(["plan", "frob"]),
      "baton: unknown command 'frob' (see `baton plan --help`)",
    );
    assertPointsAtHelp(await baton(["frob"]), "baton: unknown command 'frob' (see `baton --help`)");
  });

  test("--help of a command prints to stdout and exits 0", async () => {
    assertHelp(await baton(["poll", "--help"]), /^Usage: baton poll \[options\] <id>/);
    assertHelp(await baton(["run", "review", "--help"]), /^Usage: baton run review \[options\] <task\.\.\.>/);
  });
});
