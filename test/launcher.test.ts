import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  cpSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  type AgentProgram,
  confiner,
  DEFAULT_WORKER_NICE,
  direct,
  launcherIn,
  unhelped,
} from "../dist/confine/index.js";
import { shielded } from "../dist/confine/launcher.js";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { FIXTURES, ROOT, Workspace } from "./support/harness.ts";

// How every agent is started: the native helper (native/launch.c, built into dist/native/baton-launch
// and copied into the run store), and GNU env and bash, which Baton falls back to where no C compiler
// built the helper. Both are run for real here, with the machine's bubblewrap: the agent gets its
// prompt file as standard input and its signals back, while bubblewrap ignores the ones meant for it.

const BUILT = join(import.meta.dirname, "..", "dist/native/baton-launch");
const root = mkdtempSync(join(tmpdir(), "baton-launcher-"));
after(() => rmSync(root, { recursive: true, force: true }));

const SHIELDED = [1, 2, 3, 15]; // HUP, INT, QUIT, TERM
/** Which of the shielded signals a `SigIgn:` mask (hex) ignores. */
const ignored = (mask: string) => SHIELDED.filter((n) => (BigInt(`0x${mask}`) >> BigInt(n - 1)) & 1n);

const run = (file: string, args: readonly string[]) => {
  const out = spawnSync(file, args, { encoding: "utf8", timeout: 20_000 });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
};

/** A program that prints its own and its parent's ignored signals, then its standard input. */
const reporter = (stdin: string): AgentProgram => ({
  file: "/bin/sh",
  args: ["-c", 'grep "^SigIgn" /proc/self/status; grep "^SigIgn" /proc/$PPID/status; cat'],
  stdin,
});

const masks = (stdout: string) => [...stdout.matchAll(/^SigIgn:\s+([0-9a-f]+)$/gm)].map((m) => m[1]!);

describe("the agent launcher", () => {
  const prompt = join(root, "prompt.txt");
  writeFileSync(prompt, "the prompt\nsecond line\n");

  test("the build made it, and it feeds the prompt file to the agent and gives its signals back", () => {
    assert.ok(statSync(BUILT).mode & 0o100, "dist/native/baton-launch is built and executable");
    // Started with the four signals ignored, as it is inside bubblewrap's shield.
    const out = run("env", [
      "--ignore-signal=INT,QUIT,TERM,HUP",
      BUILT,
      "--agent",
      "--stdin",
      prompt,
      "--",
      "sh",
      "-c",
      'grep "^SigIgn" /proc/self/status; cat',
    ]);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(ignored(masks(out.stdout)[0]!), [], "the agent gets INT, QUIT, TERM and HUP back");
    assert.match(out.stdout, /the prompt\nsecond line\n$/);

    const shield = run(BUILT, ["--shield", "--", "sh", "-c", 'grep "^SigIgn" /proc/self/status']);
    assert.equal(shield.code, 0, shield.stderr);
    assert.deepEqual(ignored(masks(shield.stdout)[0]!), SHIELDED);
  });

  test("--nice lowers the priority of what it runs, and of its session only when it leads one", () => {
    const report = ["sh", "-c", 'echo "$(nice) $(cat /proc/self/autogroup)"'];
    const ownSession = run("setsid", ["-w", BUILT, "--nice", "7", "--", ...report]);
    assert.equal(ownSession.code, 0, ownSession.stderr);
    assert.match(ownSession.stdout, /^7 \/autogroup-\d+ nice 7\n$/);
    // Run inside the caller's session, it leaves that session's group as it was.
    const before = readFileSync("/proc/self/autogroup", "utf8");
    const inMine = run(BUILT, ["--nice", "7", "--", ...report]);
    assert.equal(inMine.code, 0, inMine.stderr);
    assert.match(inMine.stdout, /^7 /);
    assert.equal(readFileSync("/proc/self/autogroup", "utf8"), before, "the caller's session is untouched");
    for (const bad of ["0", "20", "-1", "x", "5x"]) {
      const usage = run(BUILT, ["--nice", bad, "--", "true"]);
      assert.equal(usage.code, 2, `--nice ${bad}: ${usage.stderr}`);
    }
  });

  test("what goes wrong is one line, with a shell's exit code", () => {
    const missingFile = run(BUILT, ["--stdin", join(root, "nope.txt"), "--", "cat"]);
    assert.equal(missingFile.code, 126);
    assert.equal(
      missingFile.stderr,
      `baton-launch: cannot open ${join(root, "nope.txt")}: No such file or directory\n`,
    );
    const missingProgram = run(BUILT, ["--", join(root, "no-such-agent")]);
    assert.equal(missingProgram.code, 127);
    assert.match(
      missingProgram.stderr,
      /^baton-launch: cannot run .*no-such-agent: No such file or directory\n$/,
    );
    const bads = [[], ["--"], ["--agent", "cat"], ["--shield", "--agent", "--", "true"], ["--stdin"]];
    // The scope is for an agent inside the sandbox only, and given once.
    bads.push(["--scoped", "--", "true"], ["--shield", "--scoped", "--", "true"]);
    bads.push(["--agent", "--scoped", "--scoped", "--", "true"]);
    for (const bad of bads) {
      const usage = run(BUILT, bad);
      assert.equal(usage.code, 2, `${bad.join(" ")}: ${usage.stderr}`);
      assert.match(
        usage.stderr,
        /^baton-launch: usage: baton-launch \[--shield \| --agent \[--scoped\]\] .*\n$/,
      );
    }
  });

  test("the store holds its own copy, made whole, never through a link, and run only as Baton made it", () => {
    const home = join(root, "store");
    mkdirSync(home);
    const victim = join(root, "victim");
    writeFileSync(victim, "not Baton's\n");
    symlinkSync(victim, join(home, "baton-launch"));
    const copy = launcherIn(home);
    assert.equal(copy, join(home, "baton-launch"));
    assert.equal(readFileSync(victim, "utf8"), "not Baton's\n", "the link was replaced, not followed");
    const made = lstatSync(copy);
    assert.ok(made.isFile());
    assert.equal(made.mode & 0o777, 0o700);
    assert.deepEqual(readFileSync(copy), readFileSync(BUILT));
    assert.equal(launcherIn(home), copy);
    assert.equal(lstatSync(copy).ino, made.ino, "the copy it made stands while it is as it was made");

    // Whatever takes its place (gone, another program, a second name for it that a sandbox could
    // write through) is never run: a new copy is made.
    const changes: [string, () => void][] = [
      ["removed", () => rmSync(copy)],
      ["replaced", () => writeFileSync(copy, "#!/bin/sh\necho planted\n", { mode: 0o700 })],
      ["hard-linked", () => linkSync(copy, join(root, `second-name-${Date.now()}`))],
    ];
    for (const [what, change] of changes) {
      const before = lstatSync(copy).ino;
      change();
      assert.equal(launcherIn(home), copy, what);
      const after = lstatSync(copy);
      // (A removed file's inode number may be handed out again.)
      if (what !== "removed") assert.notEqual(after.ino, before, `${what}: a new copy`);
      assert.equal(after.nlink, 1, what);
      assert.deepEqual(readFileSync(copy), readFileSync(BUILT), what);
    }

    // With it, an unconfined agent is started by it; without it (no build, a store on a noexec file
    // system), by bash (see "without the helper" below).
    assert.notEqual(direct({ file: "agent", args: ["a"], stdin: prompt }, undefined).file, copy);
    assert.deepEqual(direct({ file: "agent", args: ["a"], stdin: prompt }, copy), {
      file: copy,
      args: ["--stdin", prompt, "--", "agent", "a"],
    });
    // With nothing else to do, it still starts the agent: it closes what the agent would inherit.
    assert.deepEqual(direct({ file: "agent", args: ["a"] }, copy), {
      file: copy,
      args: ["--", "agent", "a"],
    });
  });

  test("without the helper, bash gives the agent its prompt and closes every other descriptor first", () => {
    const listing: AgentProgram = {
      file: "/bin/sh",
      // No pipeline: the shell would hold its ends while it starts the next stage.
      args: ["-c", "ls /proc/$$/fd; cat"],
      stdin: prompt,
    };
    const command = direct(listing, undefined);
    // Descriptors 3 and 12 are open, and not close-on-exec, as node-pty leaves a terminal's master.
    const held = openSync(prompt, "r");
    const out = spawnSync(command.file, command.args, {
      encoding: "utf8",
      timeout: 20_000,
      stdio: ["pipe", "pipe", "pipe", held, ...Array(8).fill("ignore"), held],
    });
    closeSync(held);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout, "0\n1\n2\nthe prompt\nsecond line\n");
    // With no bash either, the worker is refused in one line, never started holding them.
    assert.throws(
      () => unhelped(listing, undefined),
      (error: Error) =>
        /^cannot start the agent safely: .*install bash$/.test(error.message) &&
        !error.message.includes("\n"),
    );
  });

  const confined = confiner();
  test("in bubblewrap, with the launcher and with env and bash alike", { skip: !confined.ok }, () => {
    if (!confined.ok) return;
    const home = join(root, "store-2");
    mkdirSync(home);
    const launcher = launcherIn(home)!;
    const sandbox = ["--ro-bind", "/", "/", "--dev", "/dev", "--bind", "/proc", "/proc"];
    for (const tools of [{ launcher }, { env: confined.env }]) {
      const command = shielded(reporter(prompt), confined.bwrap, sandbox, tools);
      const out = run(command.file, command.args);
      assert.equal(out.code, 0, out.stderr);
      const [agent, monitor] = masks(out.stdout);
      assert.deepEqual(ignored(agent!), [], `${command.file}: the agent gets its signals back`);
      assert.deepEqual(ignored(monitor!), SHIELDED, `${command.file}: bubblewrap ignores them`);
      assert.match(out.stdout, /the prompt\nsecond line\n$/);
    }
  });

  test("a confined worker is started through the store's copy, its prompt as standard input", async () => {
    const ws = await Workspace.create(directiveScript());
    try {
      const fixture = join(FIXTURES, "launch-chain-command.sh");
      const id = (await ws.ok(["spawn", "--cmd", fixture, "launch check"])).trim();
      await ws.ok(["wait", id]);
      const result = await ws.json<WorkerResult>(["result", id]);
      assert.equal(result.state, "succeeded", result.answer);
      const copy = join(ws.home, "baton-launch");
      const prompt = join(ws.home, "workers", id, "prompt.txt");
      // Bubblewrap (the fixture's parent) ran the copy inside the sandbox, which ran the fixture.
      assert.match(result.answer, /^parent: \S*bwrap /m);
      assert.ok(
        result.answer.includes(` -- ${copy} --agent --scoped --stdin ${prompt} -- ${fixture} `),
        result.answer,
      );
      assert.deepEqual(ignored(/^SigIgn:\s+([0-9a-f]+)$/m.exec(result.answer)![1]!), []);
      assert.match(result.answer, /^task: TASK: launch check$/m);
      assert.deepEqual(readFileSync(copy), readFileSync(BUILT));
      // At the supervisor's priority, by default (its session starts lower for a moment, and is
      // given the same back: start-priority.test.ts).
      assert.match(result.answer, new RegExp(`^nice: ${DEFAULT_WORKER_NICE}$`, "m"));
    } finally {
      await ws.cleanup();
    }
  });

  /**
   * Spawns a worker that holds its terminal, then a confined and an unconfined one that list their
   * shell's descriptors: each must hold only its standard input, output and error.
   */
  const holdOnlyTheirOwn = async (ws: Workspace) => {
    // node-pty leaves each terminal's master end to be inherited by whatever the supervisor starts next.
    const idle = (await ws.ok(["spawn", "--cmd", "sleep 60", "holds a terminal"])).trim();
    // `exit` after it keeps the shell from becoming `ls`: the shell's own descriptors are listed.
    const listing = "sh -c 'ls -l /proc/$$/fd; exit 0'";
    const ids = [
      (await ws.ok(["spawn", "--cmd", listing, "confined"])).trim(),
      (await ws.ok(["spawn", "--unconfined", "--cmd", listing, "unconfined"])).trim(),
    ];
    await ws.ok(["wait", ...ids]);
    for (const id of ids) {
      const result = await ws.json<WorkerResult>(["result", id]);
      assert.equal(result.state, "succeeded", result.answer);
      const fds = [...result.answer.matchAll(/ (\d+) -> (.*)$/gm)].map((m) => `${m[1]} ${m[2]}`);
      assert.deepEqual(
        fds.map((fd) => Number(fd.split(" ")[0])),
        [0, 1, 2],
        `${id} holds only its standard input, output and error: ${fds.join(", ")}`,
      );
    }
    await ws.ok(["stop", idle]);
  };

  test("an agent holds no descriptor of the supervisor's, nor the terminal of a worker started before it", async () => {
    const ws = await Workspace.create(directiveScript());
    try {
      await holdOnlyTheirOwn(ws);
    } finally {
      await ws.cleanup();
    }
  });

  test("without the native helpers (no C compiler), bash closes them all the same", async () => {
    // An install of this build whose native programs were not made: agents start through bash (and
    // GNU env around bubblewrap), by node-pty's fork of the supervisor.
    const install = mkdtempSync(join(tmpdir(), "baton-no-native-"));
    cpSync(join(ROOT, "dist"), join(install, "dist"), {
      recursive: true,
      filter: (path) => !path.startsWith(join(ROOT, "dist/native")),
    });
    cpSync(join(ROOT, "package.json"), join(install, "package.json"));
    symlinkSync(join(ROOT, "node_modules"), join(install, "node_modules"));
    const ws = await Workspace.create(directiveScript());
    ws.cli = join(install, "dist/cli/main.js");
    try {
      await holdOnlyTheirOwn(ws);
      const log = readFileSync(join(ws.home, "supervisor.log"), "utf8");
      assert.match(log, /agents start through bash and env, not baton-launch/);
      // The supervisor that ran them is this install's, which has no spawner: node-pty forked it.
      const supervisor = readFileSync(`/proc/${ws.supervisorPid()}/cmdline`, "utf8").split("\0");
      assert.equal(supervisor[1], join(install, "dist/supervisor/main.js"));
    } finally {
      await ws.cleanup();
      rmSync(install, { recursive: true, force: true });
    }
  });

  test("confinement needs no GNU env where the helper was built (busybox's env has no signal options)", async () => {
    const bin = join(root, "busybox-like");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "env"),
      '#!/bin/sh\ncase "$1" in --ignore-signal*|--default-signal*) echo "env: unrecognized option: $1" >&2; exit 125;; esac\nexec /usr/bin/env "$@"\n',
      { mode: 0o755 },
    );
    const ws = await Workspace.create(directiveScript());
    ws.env = { ...ws.env, PATH: `${bin}:${ws.env.PATH}` };
    try {
      const fixture = join(FIXTURES, "launch-chain-command.sh");
      const id = (await ws.ok(["spawn", "--cmd", fixture, "--write", "out.txt", "no gnu env"])).trim();
      await ws.ok(["wait", id]);
      const result = await ws.json<WorkerResult>(["result", id]);
      assert.equal(result.state, "succeeded", result.answer);
      assert.equal(result.confinement, "baton");
      assert.match(result.answer, /^parent: \S*bwrap /m);
    } finally {
      await ws.cleanup();
    }
  });

  test("a BATON_WORKER_NICE that is not 0 to 19 is refused in one line, and no supervisor starts", async () => {
    const ws = await Workspace.create(directiveScript());
    try {
      for (const value of ["high", "20", "-1", "1.5"]) {
        ws.env = { ...ws.env, BATON_WORKER_NICE: value };
        const refused = await ws.baton(["spawn", "--cmd", join(FIXTURES, "launch-chain-command.sh"), "x"]);
        assert.equal(refused.code, 2, refused.stderr);
        assert.equal(
          refused.stderr,
          `baton: BATON_WORKER_NICE is "${value}": set it to a whole number from 0 (workers at the supervisor's priority) to 19, or unset it for ${DEFAULT_WORKER_NICE}\n`,
        );
        assert.equal(existsSync(join(ws.home, "supervisor.json")), false, "no supervisor started");
      }
    } finally {
      await ws.cleanup();
    }
  });

  test("BATON_WORKER_NICE=10 keeps workers below the supervisor's priority, their sessions too", async () => {
    const ws = await Workspace.create(directiveScript());
    ws.env = { ...ws.env, BATON_WORKER_NICE: "10" };
    try {
      const fixture = join(FIXTURES, "launch-chain-command.sh");
      // Unconfined, baton-launch lowers it; confined, the spawner does, before bubblewrap runs.
      for (const confinement of [["--unconfined"], []]) {
        const id = (await ws.ok(["spawn", "--cmd", fixture, ...confinement, "priority check"])).trim();
        await ws.ok(["wait", id]);
        const result = await ws.json<WorkerResult>(["result", id]);
        assert.equal(result.state, "succeeded", result.answer);
        assert.match(result.answer, /^nice: 10$/m);
        assert.match(result.answer, /^autogroup: \/autogroup-\d+ nice 10$/m);
      }
    } finally {
      await ws.cleanup();
    }
  });
});
