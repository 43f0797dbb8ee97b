import assert from "node:assert/strict";
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerInfo } from "../dist/index.js";
import { resolveHome } from "../dist/store/home.js";
import { trustStore } from "../dist/store/trusted.js";
import { CLI, FIXTURES, ROOT, type RunResult, runNode, Workspace } from "./support/harness.ts";

// What a new user meets first: the store ignores itself, the workspace is found as git finds it,
// `baton ls` lists by id, and `baton try` runs a worker with no account, followed as it is printed.

/** Where the stores Baton made are listed, for these tests alone (see store/trusted.ts). */
const STATE = mkdtempSync(join(tmpdir(), "baton-new-user-state-"));

/** The environment of someone who has set nothing up: no store, no codex home, no key. */
function bareEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, BATON_IDLE_EXIT_MS: "60000", XDG_STATE_HOME: STATE, ...extra };
  for (const name of ["BATON_HOME", "CODEX_HOME", "SCRIPTED_KEY", "BATON_CODEX_BIN", "BATON_WORKER_ID"])
    delete env[name];
  return env;
}

/** Runs `program` (not Node) with `args`: its exit code and output. */
function runProgram(program: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<RunResult>((resolve) => {
    execFile(program, [...args], { cwd, env, encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const baton = (
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = bareEnv(),
): Promise<RunResult> => runNode([CLI, ...args], { cwd, env });

/** Makes `dir` look like a repository's root to git: a .git folder holding HEAD. */
const gitFolder = (dir: string) => {
  mkdirSync(join(dir, ".git"), { recursive: true });
  writeFileSync(join(dir, ".git", "HEAD"), "ref: refs/heads/main\n");
};

describe("a new user's first minutes", () => {
  let root: string;
  const stores: string[] = [];
  before(() => {
    root = mkdtempSync(join(tmpdir(), "baton-new-user-"));
  });
  after(async () => {
    for (const home of stores) await baton(["--home", home, "shutdown"], root);
    rmSync(root, { recursive: true, force: true });
    rmSync(STATE, { recursive: true, force: true });
  });

  test("the store ignores itself: a new store, and one made before, get .baton/.gitignore holding *", async () => {
    const repo = join(root, "ignored");
    mkdirSync(repo);
    execFileSync("git", ["init", "-q", repo]);
    writeFileSync(join(repo, "README"), "hi\n");
    stores.push(join(repo, ".baton"));
    assert.equal((await baton(["ls"], repo)).code, 0);
    assert.equal(readFileSync(join(repo, ".baton", ".gitignore"), "utf8"), "*\n");
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=all"], {
      cwd: repo,
      encoding: "utf8",
    });
    assert.equal(status, "?? README\n", "git shows nothing of the store");

    // A store made before: its .gitignore is written the next time it is opened.
    await baton(["shutdown"], repo);
    rmSync(join(repo, ".baton", ".gitignore"));
    assert.equal((await baton(["ls"], repo)).code, 0);
    assert.equal(readFileSync(join(repo, ".baton", ".gitignore"), "utf8"), "*\n");
  });

  test("a .gitignore that is a link in the store is never written through", async () => {
    const dir = join(root, "linked");
    const home = join(dir, ".baton");
    mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileSync(join(home, ".baton-store"), "This folder is a Baton run store.\n");
    const target = join(root, "elsewhere.txt");
    writeFileSync(target, "keep me\n");
    symlinkSync(target, join(home, ".gitignore"));
    stores.push(home);
    // Made by hand, it is named on purpose: found on the way up, it would be refused (see below).
    assert.equal((await baton(["--home", home, "ls"], dir)).code, 0);
    assert.equal(readFileSync(target, "utf8"), "keep me\n");
    assert.ok(lstatSync(join(home, ".gitignore")).isSymbolicLink());
  });

  test("the workspace is found as git finds it: the nearest .baton, else the repository's root, else here", async () => {
    const repo = join(root, "found");
    const deep = join(repo, "src", "deep");
    mkdirSync(deep, { recursive: true });
    gitFolder(repo);
    assert.equal(resolveHome(deep, {}), join(repo, ".baton"), "the repository's root");
    // An empty .git folder (what an agent's own sandbox leaves in a folder it could write) is no
    // repository: git passes it over, and so does Baton.
    mkdirSync(join(repo, "src", ".git"));
    assert.equal(resolveHome(deep, {}), join(repo, ".baton"), "an empty .git is passed over");

    // A worktree or submodule has a .git file: the same.
    const sub = join(repo, "vendor", "lib");
    mkdirSync(join(sub, "x"), { recursive: true });
    writeFileSync(join(sub, ".git"), "gitdir: ../../.git/modules/lib\n");
    assert.equal(resolveHome(join(sub, "x"), {}), join(sub, ".baton"));

    // A .baton between here and the root wins (one Baton made: see the next test); one above the
    // repository's root is not picked up.
    const env = { XDG_STATE_HOME: STATE };
    mkdirSync(join(repo, "src", ".baton"));
    trustStore(join(repo, "src", ".baton"), env);
    assert.equal(resolveHome(deep, env), join(repo, "src", ".baton"));
    mkdirSync(join(root, ".baton-outside", ".baton"), { recursive: true });
    const inner = join(root, ".baton-outside", "repo", "a");
    mkdirSync(inner, { recursive: true });
    gitFolder(join(root, ".baton-outside", "repo"));
    assert.equal(resolveHome(inner, {}), join(root, ".baton-outside", "repo", ".baton"));

    // Outside any repository: the nearest .baton above, else the current folder.
    const loose = join(root, "loose", "a", "b");
    mkdirSync(loose, { recursive: true });
    assert.equal(resolveHome(loose, {}), join(loose, ".baton"));
    mkdirSync(join(root, "loose", ".baton"));
    trustStore(join(root, "loose", ".baton"), env);
    assert.equal(resolveHome(loose, env), join(root, "loose", ".baton"));

    // BATON_HOME still wins.
    assert.equal(resolveHome(deep, { BATON_HOME: "/x/y" }), "/x/y");

    // The CLI in a subfolder uses the repository's store, and makes none where it runs, even beside an
    // empty .git.
    const plain = join(root, "plain-repo");
    mkdirSync(join(plain, "pkg", "sub", ".git"), { recursive: true });
    execFileSync("git", ["init", "-q", plain]);
    stores.push(join(plain, ".baton"));
    assert.equal((await baton(["ls"], join(plain, "pkg", "sub"))).code, 0);
    assert.ok(existsSync(join(plain, ".baton", ".baton-store")));
    assert.ok(!existsSync(join(plain, "pkg", "sub", ".baton")));
  });

  test("a .baton that Baton did not make is refused on the way up, until it is named on purpose", async () => {
    const repo = join(root, "planted");
    const below = join(repo, "src", "lib");
    mkdirSync(below, { recursive: true });
    execFileSync("git", ["init", "-q", repo]);
    stores.push(join(repo, ".baton"));
    assert.equal((await baton(["ls"], repo)).code, 0, "the repository's own store, made by Baton");
    assert.equal((await baton(["ls"], below)).code, 0, "found from below");

    // What a writer of src/ could leave there: a store with settings naming its own program.
    const planted = join(repo, "src", ".baton");
    mkdirSync(planted, { mode: 0o700 });
    writeFileSync(join(planted, ".baton-store"), "This folder is a Baton run store.\n");
    const agents = { backend: "x", agents: { x: { command: "sh -c 'echo pwned'" } } };
    writeFileSync(join(planted, "config.json"), JSON.stringify(agents));
    for (const command of [["ls"], ["spawn", "hello"], ["result", "w1"]]) {
      const refused = await baton(command, below);
      assert.equal(refused.code, 2, refused.stderr);
      assert.equal(
        refused.stderr,
        `baton: ${planted} is a run store Baton did not make for you (a worker that may write there could have): if it is yours, name it once with --home ${planted} (or BATON_HOME); else remove it\n`,
      );
      assert.equal(refused.stdout, "");
    }
    // The native client never talks to a socket left there either: Node's CLI refuses for it.
    let connections = 0;
    const fake = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => fake.listen(join(planted, "supervisor.sock"), resolve));
    try {
      for (const command of [["ls"], ["result", "w1"]]) {
        const refused = await runProgram(join(ROOT, "dist/cli/baton"), command, below, bareEnv());
        assert.equal(refused.code, 2, refused.stderr);
        assert.match(refused.stderr, /^baton: .* is a run store Baton did not make for you .*\n$/);
      }
      assert.equal(connections, 0, "nothing connected to the planted socket");
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
    assert.throws(() => resolveHome(below, { XDG_STATE_HOME: STATE }), /did not make for you/);
    assert.ok(!existsSync(join(planted, "supervisor.json")), "no supervisor was started for it");
    assert.ok(!existsSync(join(planted, "workers")), "nothing was made in it");

    // Named once on purpose, it is the user's: found from below from then on.
    stores.push(planted);
    assert.equal((await baton(["--home", planted, "ls"], below)).code, 0);
    assert.equal((await baton(["ls", "--json"], below)).code, 0);
    assert.equal(resolveHome(below, { XDG_STATE_HOME: STATE }), planted);

    // Moved away, and another made at the same path by someone else: refused again.
    await baton(["shutdown"], below);
    renameSync(planted, `${planted}-moved`);
    mkdirSync(planted, { mode: 0o700 });
    const again = await baton(["ls"], below);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /did not make for you/);
  });

  test("baton ls lists workers by id as numbers: w2 before w10", async () => {
    const ws = await Workspace.create(() => ({ type: "message", text: "ok" }));
    try {
      const agent = join(FIXTURES, "count-agent.sh");
      const ids: string[] = [];
      // A label in wide characters, and one longer than a row should be.
      const labels: Record<number, string> = { 2: "日本語ラベル", 3: `long-${"x".repeat(80)}` };
      for (let i = 0; i < 11; i++) {
        const label = labels[i] ? ["--label", labels[i]] : [];
        ids.push((await ws.ok(["spawn", "--codex-bin", agent, ...label, `task ${i}`])).trim());
      }
      assert.equal((await ws.baton(["wait"])).code, 0);
      const idle = await ws.baton(["wait"]);
      assert.deepEqual(
        [idle.code, idle.stdout, idle.stderr],
        [0, "", "baton: nothing to wait for: no worker is unfinished\n"],
        "a wait with nothing to wait for says so",
      );
      const listed = (await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers.map((w) => w.id);
      assert.deepEqual(listed, ids);
      const table = (await ws.ok(["ls"]))
        .split("\n")
        .slice(1, -1)
        .map((line) => line.split(" ")[0]);
      assert.deepEqual(table, ids);
      assert.match(await ws.ok(["ls"]), /^w1 .* 0 +\$0 +0$/m, "tokens and cost formatted in the table");
      // Columns line up as a terminal shows them (a CJK character takes two), and a long label is cut.
      const rows = (await ws.ok(["ls"])).trimEnd().split("\n");
      const columns = (text: string) =>
        [...text].reduce((n, c) => n + (/[\u3000-\u9fff]/.test(c) ? 2 : 1), 0);
      const stateAt = rows.map((row) => columns(row.slice(0, row.search(/ (STATE|succeeded)/))));
      assert.deepEqual(new Set(stateAt).size, 1, rows.join("\n"));
      assert.match(rows.find((row) => row.includes("long-"))!, / long-x+… /);
      assert.ok(
        rows.every((row) => row.length < 100),
        rows.join("\n"),
      );
    } finally {
      await ws.cleanup();
    }
  });
});

describe("baton try", () => {
  let server: ChildProcess | undefined;
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "baton-try-user-"));
  });
  after(async () => {
    server?.kill("SIGKILL");
    await baton(["shutdown"], join(dir, "project"));
    rmSync(dir, { recursive: true, force: true });
  });

  test("prints lines that, pasted into another shell, run a worker to its answer; Ctrl+C stops it", async () => {
    const running = spawn(process.execPath, [CLI, "try"], {
      env: bareEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    server = running;
    let printed = "";
    running.stdout?.setEncoding("utf8");
    await new Promise<void>((resolve, reject) => {
      running.once("exit", (code) => reject(new Error(`baton try exited ${code}: ${printed}`)));
      running.stdout?.on("data", (chunk: string) => {
        printed += chunk;
        if (/^Then try/m.test(printed)) resolve();
      });
    });
    // The lines to paste: the indented ones after "In another terminal, paste:".
    const block = printed.split("In another terminal, paste:")[1]?.split("\n\nThen")[0] ?? "";
    const pasted = block
      .split("\n")
      .filter((line) => line.startsWith("  "))
      .map((line) => line.trim());
    assert.match(pasted[0] ?? "", /^export CODEX_HOME=\S+ SCRIPTED_KEY=\S+/);
    assert.ok(pasted.length >= 2 && pasted.length <= 3, `two or three lines: ${block}`);

    // Another terminal: a shell in a project folder, with `baton` on PATH as an install puts it.
    const bin = join(dir, "bin");
    mkdirSync(bin);
    symlinkSync(join(ROOT, "dist/cli/baton"), join(bin, "baton")); // the package's bin, linked as npm links it
    const project = join(dir, "project");
    mkdirSync(project);
    const env = bareEnv({ PATH: `${bin}:${process.env.PATH}` });
    const shell = execFileSync("sh", ["-c", `set -e\n${pasted.join("\n")}\n`], {
      cwd: project,
      env,
      encoding: "utf8",
    });
    assert.match(shell, /^Scripted answer .*I got "Say hello"/, shell);
    // What it suggests next, in that shell: `ls` names the hello worker, the last one; a follow-up in
    // its thread, its logs, and a worker with a role.
    const listed = JSON.parse(
      execFileSync("sh", ["-c", `${pasted[0]}\nbaton ls --json`], { cwd: project, env, encoding: "utf8" }),
    );
    const hello = listed.workers.at(-1);
    assert.equal(hello?.label, "hello", JSON.stringify(listed));
    const next = execFileSync(
      "sh",
      [
        "-c",
        `set -e\n${pasted[0]}\nbaton logs ${hello.id} >/dev/null\nbaton spawn --continue ${hello.id} "And again"\nbaton wait >/dev/null\nbaton result w2\nbaton spawn --wait --role scout "Map the code"\n`,
      ],
      { cwd: project, env, encoding: "utf8" },
    );
    assert.match(next, /^w2\nScripted answer .*I got "And again"/m, next);
    assert.match(next, /I got "Map the code"/, next);
    // A pattern: its reviewers must answer in a form, which the scripted model follows.
    const review = execFileSync("sh", ["-c", `set -e\n${pasted[0]}\nbaton run review "the parser"\n`], {
      cwd: project,
      env,
      encoding: "utf8",
    });
    assert.match(review, /3 of 3 reviewers/, review);
    assert.match(review, /I got "the parser"/, review);

    const stopped = new Promise<number | null>((resolve) => running.once("exit", (code) => resolve(code)));
    running.kill("SIGINT");
    assert.equal(await stopped, 0);
    const codexHome = /CODEX_HOME=(\S+)/.exec(pasted[0] ?? "")?.[1] ?? "";
    assert.ok(!existsSync(codexHome), "its temporary folder is removed");
  });
});
