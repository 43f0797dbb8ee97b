import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { FIXTURES, Workspace } from "./support/harness.ts";

// Every git command Baton runs for an isolated writer runs with a configuration no worker controls.
// The repository here is as hostile as a worker that got out could make it: its config names an
// fsmonitor program, a hooks folder and a gpg program, the environment names a global config that
// does the same, and the worker's own worktree gets a `.git` pointing at a repository it made. Each
// is first shown to run its program under plain git; under Baton none of them runs.

const INTERACTIVE = join(FIXTURES, "interactive-agent.mjs");
const HOOKS = [
  "pre-commit",
  "prepare-commit-msg",
  "commit-msg",
  "post-commit",
  "post-checkout",
  "reference-transaction",
  "post-index-change",
];

/** Git as the test's own hand: nothing of the hostile config runs for the setup itself. */
const safeGit = (cwd: string, ...args: string[]) =>
  execFileSync(
    "git",
    ["-C", cwd, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "core.hooksPath=/dev/null", ...args],
    { encoding: "utf8", env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" } },
  );

describe("git run for isolated writers", () => {
  let ws: Workspace;
  let marker: string;
  let evil: string;

  /** Plain git, as any tool would run it here: the hostile configuration is live for it. */
  const plainGit = (cwd: string, ...args: string[]) =>
    spawnSync("git", ["-C", cwd, ...args], { encoding: "utf8", env: ws.env });

  /** Asserts that the planted program ran under plain git (the trap is live), then clears the marker. */
  const assertTrapIsLive = (cwd: string) => {
    plainGit(cwd, "status", "--porcelain");
    assert.ok(existsSync(marker), "plain git runs the planted program");
    rmSync(marker);
  };

  /** Starts an isolated writer that waits for `quit`; resolves with its id and worktree once it runs. */
  const isolatedWriter = async () => {
    const id = (
      await ws.ok(["spawn", "--isolate", "--write", "notes.txt", "--codex-bin", INTERACTIVE, "edit notes"])
    ).trim();
    let output = "";
    for (let i = 0; i < 30 && !output.includes("ready>"); i++)
      output += (await ws.json<{ output: string }>(["poll", id, "--wait", "2000"])).output;
    assert.match(output, /ready>/, `${id} started in its worktree`);
    return { id, worktree: join(ws.home, "worktrees", id) };
  };

  before(async () => {
    ws = await Workspace.create(directiveScript());
    marker = join(ws.dir, "planted-program-ran");
    evil = join(ws.dir, "evil.sh");
    writeFileSync(evil, `#!/bin/sh\necho "$0 $*" >> ${marker}\n`);
    chmodSync(evil, 0o755);
    safeGit(ws.dir, "init", "-q");
    writeFileSync(join(ws.dir, ".gitignore"), ".baton/\ncodex-home/\nevil*\nplanted*\n");
    writeFileSync(join(ws.dir, "notes.txt"), "original\n");
    safeGit(ws.dir, "add", ".");
    safeGit(ws.dir, "commit", "-qm", "start");
    // The repository's own config and hooks, as an unconfined worker could leave them.
    const hooks = join(ws.dir, "evil-hooks");
    mkdirSync(hooks);
    for (const hook of HOOKS)
      writeFileSync(join(hooks, hook), `#!/bin/sh\nexec ${evil} ${hook}\n`, { mode: 0o755 });
    for (const hook of HOOKS)
      writeFileSync(join(ws.dir, ".git", "hooks", hook), `#!/bin/sh\nexec ${evil} ${hook}\n`, {
        mode: 0o755,
      });
    for (const [key, value] of [
      ["core.fsmonitor", evil],
      ["core.hooksPath", hooks],
      ["commit.gpgSign", "true"],
      ["gpg.program", evil],
    ] as const)
      safeGit(ws.dir, "config", key, value);
    // And a global config in the environment the supervisor inherits.
    const global = join(ws.dir, "evil-global.gitconfig");
    writeFileSync(global, `[core]\n\tfsmonitor = ${evil}\n\thooksPath = ${hooks}\n`);
    ws.env = { ...ws.env, GIT_CONFIG_GLOBAL: global };
  });
  after(() => ws.cleanup());

  test("hooks, fsmonitor and gpg from the repository's config and a global config never run", async () => {
    assertTrapIsLive(ws.dir);
    const { id, worktree } = await isolatedWriter();
    writeFileSync(join(worktree, "notes.txt"), "changed by the worker\n"); // the worker's edit
    await ws.ok(["send", id, "quit"]);
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const result = await ws.json<WorkerResult>(["result", id]);
    assert.ok(result.isolation?.commit, `the change is committed: ${JSON.stringify(result.isolation)}`);
    assert.deepEqual(result.isolation.changedFiles, ["notes.txt"]);
    assert.equal(safeGit(ws.dir, "show", `${result.isolation.branch}:notes.txt`), "changed by the worker\n");
    assert.equal(existsSync(marker), false, `no planted program ran: ${readMarker(marker)}`);
  });

  test("a worktree whose .git a worker repointed at its own repository is refused, and nothing planted runs", async () => {
    const { id, worktree } = await isolatedWriter();
    writeFileSync(join(worktree, "notes.txt"), "changed by the worker\n");
    // The worker makes a repository of its own whose config runs its program, and points .git at it.
    const own = join(worktree, "own-gitdir");
    safeGit(ws.dir, "init", "-q", "--bare", own);
    safeGit(own, "config", "core.bare", "false");
    safeGit(own, "config", "core.fsmonitor", evil);
    writeFileSync(join(worktree, ".git"), `gitdir: ${own}\n`);
    const env = ws.env;
    ws.env = { ...env, GIT_CONFIG_GLOBAL: "/dev/null" };
    try {
      assertTrapIsLive(worktree);
    } finally {
      ws.env = env;
    }

    await ws.ok(["send", id, "quit"]);
    assert.equal((await ws.baton(["wait", id])).code, 0, "the worker still gets its outcome");
    const result = await ws.json<WorkerResult>(["result", id]);
    assert.equal(result.state, "succeeded");
    assert.equal(result.isolation, undefined, "nothing was collected from the tampered worktree");
    assert.equal(existsSync(marker), false, `no planted program ran: ${readMarker(marker)}`);
    assert.equal(
      readFileSync(join(worktree, "notes.txt"), "utf8"),
      "changed by the worker\n",
      "its files are left",
    );
    const ls = await ws.baton(["ls"]);
    assert.match(
      ls.stderr,
      new RegExp(
        `baton: warning: worker ${id}: could not collect its worktree .*: store damage: \\.baton/worktrees/${id}/\\.git no longer names the repository Baton made it for; Baton will not run git in that worktree`,
      ),
    );
  });
});

function readMarker(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
