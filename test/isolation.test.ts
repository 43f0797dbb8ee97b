import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerInfo, WorkerResult } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { Workspace } from "./support/harness.ts";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-C", cwd, "-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    encoding: "utf8",
  });

const editTo = (text: string) =>
  modelScriptLine([
    {
      type: "patch",
      patch: `*** Begin Patch\n*** Update File: notes.txt\n@@\n-original\n+${text}\n*** End Patch`,
    },
    { type: "message", text: `wrote ${text}` },
  ]);

describe("isolated writers (--isolate)", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
    git(ws.dir, "init", "-q");
    writeFileSync(join(ws.dir, ".gitignore"), ".baton/\ncodex-home/\n");
    writeFileSync(join(ws.dir, "notes.txt"), "original\n");
    git(ws.dir, "add", ".");
    git(ws.dir, "commit", "-qm", "start");
  });
  after(() => ws.cleanup());

  test("two writers on the same file run at once, each on its own branch; the shared checkout is untouched", async () => {
    const spawn = (text: string) =>
      ws
        .ok(["spawn", "--isolate", "--write", "notes.txt", `change notes\n${editTo(text)}`])
        .then((s) => s.trim());
    const [a, b] = await Promise.all([spawn("from a"), spawn("from b")]);
    assert.equal((await ws.baton(["wait", a!, b!])).code, 0);
    assert.equal(
      readFileSync(join(ws.dir, "notes.txt"), "utf8"),
      "original\n",
      "the shared checkout is untouched",
    );
    const results = await Promise.all([a!, b!].map((id) => ws.json<WorkerResult>(["result", id])));
    for (const [index, result] of results.entries()) {
      const isolation = result.isolation!;
      assert.ok(isolation.commit, "the change is a commit");
      assert.deepEqual(isolation.changedFiles, ["notes.txt"]);
      assert.equal(git(ws.dir, "show", `${isolation.branch}:notes.txt`), `from ${index === 0 ? "a" : "b"}\n`);
      assert.deepEqual(isolation.conflicts, [], "each alone merges cleanly into HEAD");
      assert.equal(existsSync(join(ws.home, "worktrees", result.id)), false, "the worktree is removed");
    }
    // Merging a's branch into the main line brings its change in; nothing was lost.
    git(ws.dir, "merge", "-q", results[0]!.isolation!.branch);
    assert.equal(readFileSync(join(ws.dir, "notes.txt"), "utf8"), "from a\n");
    const human = await ws.baton(["result", a!]);
    assert.match(human.stderr, /change committed on branch baton\/w\d+-\w+ .*merges cleanly/);
  });

  const editFromOriginal = (text: string) =>
    modelScriptLine([
      {
        type: "patch",
        patch: `*** Begin Patch\n*** Update File: notes.txt\n@@\n-original\n+${text}\n*** End Patch`,
      },
      { type: "message", text: "done" },
    ]);

  test("a later isolated writer is told about a conflict with HEAD", async () => {
    writeFileSync(join(ws.dir, "notes.txt"), "original\n");
    git(ws.dir, "commit", "-qam", "reset notes");
    const id = (
      await ws.ok([
        "spawn",
        "--isolate",
        "--write",
        "notes.txt",
        `edit\n${editFromOriginal("from the worker")}`,
      ])
    ).trim();
    // Meanwhile the main line changes the same line.
    writeFileSync(join(ws.dir, "notes.txt"), "from main\n");
    git(ws.dir, "commit", "-qam", "main edit");
    await ws.baton(["wait", id]);
    const result = await ws.json<WorkerResult>(["result", id]);
    assert.deepEqual(result.isolation?.conflicts, ["notes.txt"]);
    assert.match((await ws.baton(["result", id])).stderr, /CONFLICTS with HEAD in notes.txt/);
  });

  test("a queued isolated writer starts from HEAD as it was when it was spawned", async (t) => {
    t.after(() => ws.ok(["config", "--max-parallel", "4"])); // the tests after it, pass or fail
    writeFileSync(join(ws.dir, "notes.txt"), "original\n");
    git(ws.dir, "commit", "-qam", "reset notes again");
    const gate = join(ws.dir, "gate");
    // One worker at a time, and the first holds its place until the test opens the gate.
    const holder = (
      await ws.ok([
        "spawn",
        "--max-parallel",
        "1",
        "--read-only",
        `hold\n${modelScriptLine([
          { type: "shell", command: "while [ ! -e gate ]; do sleep 0.05; done" },
          { type: "message", text: "held" },
        ])}`,
      ])
    ).trim();
    const id = (
      await ws.ok(["spawn", "--isolate", "--write", "notes.txt", `edit\n${editFromOriginal("queued")}`])
    ).trim();
    writeFileSync(join(ws.dir, "notes.txt"), "from main while queued\n");
    git(ws.dir, "commit", "-qam", "main edit while queued");
    const listed = (await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers;
    assert.equal(listed.find((worker) => worker.id === id)?.state, "queued", "it waits behind the holder");
    writeFileSync(gate, "");
    assert.equal((await ws.baton(["wait", holder, id])).code, 0);
    const result = await ws.json<WorkerResult>(["result", id]);
    const branch = result.isolation!.branch;
    assert.equal(git(ws.dir, "show", `${branch}:notes.txt`), "queued\n", "its patch applied to the old line");
    assert.equal(git(ws.dir, "rev-parse", `${branch}~1`), git(ws.dir, "rev-parse", "HEAD~1"));
    assert.deepEqual(result.isolation?.conflicts, ["notes.txt"]);
  });

  for (const removed of [false, true])
    test(
      removed
        ? "an isolated writer whose worktree was removed after a crash is resumed on its branch"
        : "an isolated writer resumed after a supervisor crash goes on in its own worktree",
      async () => {
        const name = removed ? "removed" : "kept";
        const id = (
          await ws.ok([
            "spawn",
            "--isolate",
            "--write",
            ".",
            `resume ${name}\n${modelScriptLine([
              {
                type: "patch",
                patch: `*** Begin Patch\n*** Add File: ${name}.txt\n+written before the crash\n*** End Patch`,
              },
              { type: "shell", command: "sleep 120" },
              { type: "message", text: "finished after resume" },
            ])}`,
          ])
        ).trim();
        const worktree = join(ws.home, "worktrees", id);
        let thread: string | undefined;
        for (let i = 0; i < 300; i++) {
          thread = (await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers.find(
            (w) => w.id === id,
          )?.threadId;
          // Killed once its file is written and codex's session file holds its sleep (a resume replays it).
          if (existsSync(join(worktree, `${name}.txt`)) && ws.codexSessionHolds(thread, "sleep 120")) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.ok(existsSync(join(worktree, `${name}.txt`)), "the worker wrote in its worktree");
        process.kill(ws.supervisorPid()!, "SIGKILL");
        assert.equal(
          (await ws.json<{ workers: WorkerInfo[] }>(["ls"])).workers.find((w) => w.id === id)?.state,
          "lost",
        );
        if (removed) rmSync(worktree, { recursive: true, force: true });
        const resumed = await ws.json<{ resumed: { id: string; how: string }[] }>(["resume", id]);
        assert.deepEqual(
          resumed.resumed.map((r) => r.how),
          ["thread"],
        );
        assert.equal((await ws.baton(["wait", id])).code, 0);
        const result = await ws.json<WorkerResult>(["result", id]);
        assert.equal(result.answer, "finished after resume");
        assert.match(result.isolation?.branch ?? "", new RegExp(`^baton/${id}-`), "on its own branch still");
        // What it wrote before the crash is kept with its worktree, and goes with it when removed.
        assert.deepEqual(result.isolation?.changedFiles, removed ? [] : [`${name}.txt`]);
        if (!removed)
          assert.equal(
            git(ws.dir, "show", `${result.isolation!.branch}:${name}.txt`),
            "written before the crash\n",
          );
      },
    );

  test("a follow-up of an isolated writer starts from its parent's change, on a branch of its own", async () => {
    writeFileSync(join(ws.dir, "notes.txt"), "original\n");
    git(ws.dir, "commit", "-qam", "reset notes for a follow-up", "--allow-empty");
    const edit = (from: string, to: string) => ({
      type: "patch" as const,
      patch: `*** Begin Patch\n*** Update File: notes.txt\n@@\n-${from}\n+${to}\n*** End Patch`,
    });
    const script = (name: string) =>
      modelScriptLine([
        edit("original", `${name} first`),
        { type: "message", text: "wrote first" },
        edit(`${name} first`, `${name} second`),
        { type: "message", text: "wrote second" },
      ]);
    const spawnParent = async (name: string) => {
      const id = (
        await ws.ok(["spawn", "--isolate", "--write", "notes.txt", `${name}\n${script(name)}`])
      ).trim();
      assert.equal((await ws.baton(["wait", id])).code, 0);
      return { id, isolation: (await ws.json<WorkerResult>(["result", id])).isolation! };
    };

    const parent = await spawnParent("kept");
    const next = (await ws.ok(["spawn", "--continue", parent.id, "now the second edit"])).trim();
    assert.equal((await ws.baton(["wait", next])).code, 0);
    const result = await ws.json<WorkerResult>(["result", next]);
    assert.equal(result.answer, "wrote second");
    const isolation = result.isolation!;
    assert.notEqual(isolation.branch, parent.isolation.branch, "a branch of its own");
    assert.equal(
      git(ws.dir, "show", `${isolation.branch}:notes.txt`),
      "kept second\n",
      "its edit applied to its parent's",
    );
    assert.equal(git(ws.dir, "rev-parse", `${isolation.branch}~1`).trim(), parent.isolation.commit);
    assert.deepEqual(isolation.changedFiles, ["notes.txt"]);
    assert.equal(
      git(ws.dir, "rev-parse", parent.isolation.branch).trim(),
      parent.isolation.commit,
      "the parent's branch stays",
    );
    assert.equal(
      readFileSync(join(ws.dir, "notes.txt"), "utf8"),
      "original\n",
      "the shared checkout is untouched",
    );

    // A parent whose change is gone from the repository (its branch deleted, then pruned): refused.
    const gone = await spawnParent("gone");
    git(ws.dir, "branch", "-qD", gone.isolation.branch);
    git(ws.dir, "reflog", "expire", "--expire=now", "--all");
    git(ws.dir, "gc", "-q", "--prune=now");
    const refused = await ws.baton(["spawn", "--continue", gone.id, "now the second edit"]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      new RegExp(
        `^baton: worker ${gone.id}'s change \\(commit [0-9a-f]{12}\\) is not in .*: restore its branch ${gone.isolation.branch}, or spawn a new worker\n$`,
      ),
    );
  });

  test("--isolate outside a git repository, or for a reader, is refused", async () => {
    const reader = await ws.baton(["spawn", "--isolate", "--read-only", "x"]);
    assert.match(reader.stderr, /^baton: --isolate is for writers/);
    const outside = await ws.baton(["spawn", "--isolate", "--write", ".", "--cwd", "/tmp", "x"]);
    assert.match(outside.stderr, /^baton: --isolate needs a git repository: \/tmp is not inside one/);
    const fresh = join(ws.dir, "fresh-repo");
    mkdirSync(fresh);
    git(fresh, "init", "-q");
    const unborn = await ws.baton(["spawn", "--isolate", "--write", ".", "--cwd", fresh, "x"]);
    assert.match(
      unborn.stderr,
      /^baton: --isolate needs a commit to start from: .*fresh-repo has none yet; commit first\n$/,
    );
    assert.equal(unborn.code, 2);
  });
});
