import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/directives.js";
import { Workspace } from "./support/harness.js";
import { TestHost } from "./support/hosts.js";
import { TestRedis } from "./support/redis.js";

// The git-remote files mode (docs/scale-out.md): hosts in folders of their own check the workspace's
// commit out from a git remote (a bare repository here), and a writer's change comes back as a branch.

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-C", cwd, "-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    encoding: "utf8",
  });

interface Result {
  id: string;
  state: string;
  answer: string;
  placement?: { host: string };
  isolation?: { branch: string; commit?: string; changedFiles: string[]; conflicts: string[] };
}

let redis: TestRedis;
let ws: Workspace;
let remote: string;
const hosts: TestHost[] = [];

before(async () => {
  redis = await TestRedis.start();
  ws = await Workspace.create(directiveScript());
  remote = mkdtempSync(join(tmpdir(), "baton-remote-"));
  git(remote, "init", "-q", "--bare");
  git(ws.dir, "init", "-q");
  writeFileSync(join(ws.dir, ".gitignore"), "codex-home/\n");
  writeFileSync(join(ws.dir, "notes.txt"), "committed\n");
  git(ws.dir, "add", ".");
  git(ws.dir, "commit", "-qm", "start");
  // Not committed: a host never sees it.
  writeFileSync(join(ws.dir, "notes.txt"), "not committed\n");
  const config = await ws.json<{ workspace: string; files: unknown }>([
    "config",
    "--redis",
    redis.url,
    "--git-remote",
    remote,
  ]);
  assert.deepEqual(config.files, { gitRemote: remote });
  for (const name of ["git-a", "git-b"]) {
    const dir = mkdtempSync(join(tmpdir(), `baton-host-${name}-`));
    hosts.push(await TestHost.start(ws, redis, { name, workspace: config.workspace, cwd: dir }, dir));
  }
});

after(async () => {
  await ws?.cleanup();
  await Promise.all(hosts.map((host) => host.stop()));
  await redis?.stop();
  rmSync(remote, { recursive: true, force: true });
});

describe("a workspace on a queue, its files from a git remote", () => {
  test("a reader runs in its host's checkout of the workspace's commit, not in the workspace", async () => {
    const task = `Read the notes\n${modelScriptLine([
      { type: "shell", command: "pwd && cat notes.txt" },
      { type: "message", text: "{{output}}" },
    ])}`;
    const id = (await ws.ok(["spawn", task])).trim();
    await ws.baton(["wait", id]);
    const result = JSON.parse((await ws.baton(["result", id, "--json"])).stdout) as Result;
    assert.equal(result.state, "succeeded", JSON.stringify(result));
    const holder = hosts.find((h) => h.name === result.placement?.host);
    assert.ok(holder, `ran on ${result.placement?.host}`);
    assert.match(result.answer, /committed/);
    assert.doesNotMatch(result.answer, /not committed/);
    assert.ok(result.answer.includes(join(holder.home, "store-files")), result.answer);
    // The checkout goes with the last job on its commit; the host's own repository stays.
    assert.deepEqual(readdirSync(join(holder.home, "store-files")), ["repo"]);
  });

  test("a writer's change comes back as a branch of the workspace's repository; its folder is untouched", async () => {
    const task = `Change the notes\n${modelScriptLine([
      { type: "shell", command: "echo changed by the worker > notes.txt" },
      { type: "message", text: "changed" },
    ])}`;
    const id = (await ws.ok(["spawn", "--write", "notes.txt", task])).trim();
    assert.equal((await ws.baton(["wait", id])).code, 0);
    const result = await ws.json<Result>(["result", id]);
    assert.equal(result.state, "succeeded", JSON.stringify(result));
    const isolation = result.isolation;
    assert.ok(isolation?.commit, JSON.stringify(result));
    assert.match(isolation.branch, new RegExp(`^baton/${id}-d0-[0-9a-f]{8}$`));
    assert.deepEqual(isolation.changedFiles, ["notes.txt"]);
    assert.deepEqual(isolation.conflicts, []);
    assert.equal(git(ws.dir, "show", `${isolation.branch}:notes.txt`), "changed by the worker\n");
    assert.equal(git(ws.dir, "rev-parse", isolation.branch).trim(), isolation.commit);
    assert.equal(git(remote, "rev-parse", isolation.branch).trim(), isolation.commit, "on the remote too");
    assert.equal(readFileSync(join(ws.dir, "notes.txt"), "utf8"), "not committed\n");
    const human = await ws.baton(["result", id]);
    assert.match(human.stderr, new RegExp(`change committed on branch ${isolation.branch}`));
  });

  test("a remote that holds a password or runs a program is refused in one line", async () => {
    const refused = async (url: string, why: RegExp) => {
      const out = await ws.baton(["config", "--redis", redis.url, `--git-remote=${url}`]);
      assert.equal(out.code, 2, out.stderr);
      assert.match(out.stderr, why);
      assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
    };
    await refused(
      "https://me:secret@example.com/repo.git",
      /holds a password, which would travel through Redis/,
    );
    await refused("ext::sh -c false", /transport helper/);
    await refused("-uhelp", /starts with -/);
  });
});
