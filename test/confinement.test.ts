import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript, modelScriptLine } from "../dist/scripted-model/index.js";
import { FIXTURES, Workspace } from "./support/harness.ts";

// Baton's own sandbox (bubblewrap) around real codex workers: each kind of worker tries, through its
// shell tool, to write inside its scope, beside it, into the run store, into $HOME and outside the
// workspace. Only the writes inside its scope may reach the disk.

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-C", cwd, "-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    encoding: "utf8",
  });

/** A shell line that tries to write each target and prints WROTE or DENIED for it. */
const attempt = (targets: readonly string[]) =>
  targets
    .map(
      (t) => `if (printf planted > '${t}') 2>/dev/null; then echo "WROTE ${t}"; else echo "DENIED ${t}"; fi`,
    )
    .join("; ");

const LAUNCHER_BUILT = join(import.meta.dirname, "..", "dist/native/baton-launch");

const verdicts = (answer: string) =>
  new Map(
    [...answer.matchAll(/^(WROTE|DENIED) (.+)$/gm)].map((m) => [m[2] as string, m[1] as string] as const),
  );

describe("confinement: every worker writes only its scope", () => {
  let ws: Workspace;
  let outside: string;
  let umask = 0o022;
  const homeFile = join(homedir(), `baton-confinement-${process.pid}.txt`);
  before(async () => {
    // The user's umask, which their workers' files must follow (not the supervisor's private one).
    umask = process.umask(0o027);
    ws = await Workspace.create(directiveScript());
    outside = join(ws.dir, "..", `${ws.dir.split("/").pop()}-outside.txt`);
    mkdirSync(join(ws.dir, "sub"));
    mkdirSync(join(ws.dir, "dir"));
    for (const [name, text] of Object.entries({
      "sub/a.txt": "a\n",
      "sub/b.txt": "b\n",
      "dir/x.txt": "x\n",
      "top.txt": "top\n",
      "notes.txt": "original\n",
      ".gitignore": ".baton/\ncodex-home/\n",
    }))
      writeFileSync(join(ws.dir, name), text);
    git(ws.dir, "init", "-q");
    git(ws.dir, "add", ".");
    git(ws.dir, "commit", "-qm", "start");
  });
  after(async () => {
    process.umask(umask);
    rmSync(homeFile, { force: true });
    rmSync(outside, { force: true });
    await ws.cleanup();
  });

  /** Targets no worker may write, whatever its scope. */
  const forbidden = () => [
    join(ws.dir, "top.txt"),
    join(ws.home, "planted.txt"),
    join(ws.home, "workers", "w1", "result.json"),
    // The store's copy of the program that starts every agent and its sandbox: readable inside, never writable.
    join(ws.home, "baton-launch"),
    homeFile,
    outside,
  ];

  const run = async (args: readonly string[], steps: unknown[]) => {
    const prompt = `confinement\n${modelScriptLine(steps as never)}`;
    const id = (await ws.ok(["spawn", ...args, prompt])).trim();
    await ws.baton(["wait", id]);
    return ws.json<WorkerResult & { confinement?: string }>(["result", id]);
  };

  const assertUntouched = () => {
    assert.equal(readFileSync(join(ws.dir, "top.txt"), "utf8"), "top\n");
    assert.equal(existsSync(join(ws.home, "planted.txt")), false);
    assert.deepEqual(readFileSync(join(ws.home, "baton-launch")), readFileSync(LAUNCHER_BUILT));
    assert.equal(existsSync(homeFile), false, "nothing written into $HOME");
    assert.equal(existsSync(outside), false, "nothing written outside the workspace");
  };

  test("a reader can write nothing: not the workspace, the store, $HOME or outside", async () => {
    const targets = [join(ws.dir, "sub/a.txt"), ...forbidden()];
    const peek = `if cat '${join(ws.home, "supervisor.json")}' >/dev/null 2>&1; then echo STORE-READ; else echo STORE-UNSEEN; fi`;
    const result = await run(
      ["--read-only"],
      [
        { type: "shell", command: `${attempt(targets)}; ${peek}` },
        { type: "message", text: "{{output}}" },
      ],
    );
    // The store, the supervisor's socket and record included, is not even there for a worker.
    assert.match(result.answer, /STORE-UNSEEN/);
    const seen = verdicts(result.answer);
    for (const target of targets) assert.equal(seen.get(target), "DENIED", `${target}: ${result.answer}`);
    assert.equal(readFileSync(join(ws.dir, "sub/a.txt"), "utf8"), "a\n");
    assertUntouched();
  });

  test("a file-scoped writer writes its file (shell, sed -i, apply_patch) and nothing beside it", async () => {
    const file = join(ws.dir, "sub/a.txt");
    const targets = [file, join(ws.dir, "sub/b.txt"), ...forbidden()];
    const result = await run(
      ["--write", "sub/a.txt"],
      [
        { type: "shell", command: attempt(targets) },
        // Editors and sed replace the file by a temporary file renamed over it.
        { type: "shell", command: "sed -i 's/planted/sed-edited/' sub/a.txt && cat sub/a.txt" },
        {
          type: "patch",
          patch:
            "*** Begin Patch\n*** Update File: sub/a.txt\n@@\n-sed-edited\n+patched by codex\n*** End Patch",
        },
        { type: "shell", command: "echo stray > sub/new.txt; unlink sub/b.txt; echo done" },
        { type: "message", text: "{{outputs:4}}" },
      ],
    );
    const seen = verdicts(result.answer);
    assert.equal(seen.get(file), "WROTE", result.answer);
    for (const target of targets.slice(1))
      assert.equal(seen.get(target), "DENIED", `${target}: ${result.answer}`);
    assert.match(result.answer, /sed-edited/);
    assert.equal(readFileSync(file, "utf8"), "patched by codex\n");
    assert.equal(
      readFileSync(join(ws.dir, "sub/b.txt"), "utf8"),
      "b\n",
      "its neighbour is neither written nor removed",
    );
    // What it made beside its file never stays in the workspace: it is moved into its store folder.
    assert.equal(existsSync(join(ws.dir, "sub/new.txt")), false);
    assert.deepEqual(result.outsideScope?.moved, [join(ws.dir, "sub/new.txt")]);
    assert.equal(
      readFileSync(join(ws.home, "workers", result.id, "outside-scope", "sub/new.txt"), "utf8"),
      "stray\n",
    );
    assert.equal(result.confinement ?? (await specOf(result.id)).confinement, "baton");
    assertUntouched();
  });

  test("a writer of a file beside the run store neither sees nor writes the store", async () => {
    const file = join(ws.dir, "notes.txt");
    const targets = [file, ...forbidden()];
    const peek = `if cat '${join(ws.home, "supervisor.json")}' >/dev/null 2>&1; then echo STORE-READ; else echo STORE-UNSEEN; fi`;
    const result = await run(
      ["--write", "notes.txt"],
      [
        {
          type: "shell",
          command: `${attempt(targets)}; ${peek}; echo "tmp $TMPDIR" > "$TMPDIR/t" && cat "$TMPDIR/t"`,
        },
        { type: "message", text: "{{output}}" },
      ],
    );
    const seen = verdicts(result.answer);
    assert.equal(seen.get(file), "WROTE", result.answer);
    for (const target of targets.slice(1))
      assert.equal(seen.get(target), "DENIED", `${target}: ${result.answer}`);
    // Its folder is writable for its file's sake, yet the store in that folder stays hidden.
    assert.match(result.answer, /STORE-UNSEEN/);
    // Its TMPDIR is writable, and its sandbox's own: nothing of it is left on disk.
    const tmp = join(ws.home, "workers", result.id, "tmp");
    assert.match(result.answer, new RegExp(`^tmp ${tmp}$`, "m"));
    assert.equal(existsSync(tmp), false);
    writeFileSync(file, "original\n");
    assertUntouched();
  });

  test("a folder-scoped writer writes anywhere in its folder and nowhere else", async () => {
    const targets = [
      join(ws.dir, "dir/x.txt"),
      join(ws.dir, "dir/new.txt"),
      join(ws.dir, "sub/b.txt"),
      ...forbidden(),
    ];
    const result = await run(
      ["--write", "dir"],
      [
        { type: "shell", command: `${attempt(targets)}; mkdir '${join(ws.dir, "dir/made")}'` },
        { type: "message", text: "{{output}}" },
      ],
    );
    const seen = verdicts(result.answer);
    assert.equal(seen.get(targets[0] as string), "WROTE", result.answer);
    assert.equal(seen.get(targets[1] as string), "WROTE", result.answer);
    for (const target of targets.slice(2))
      assert.equal(seen.get(target), "DENIED", `${target}: ${result.answer}`);
    assert.equal(readFileSync(join(ws.dir, "dir/new.txt"), "utf8"), "planted");
    assert.equal(readFileSync(join(ws.dir, "sub/b.txt"), "utf8"), "b\n");
    // What it made follows the umask of the user who started Baton (027 here), as from their shell.
    assert.equal((statSync(join(ws.dir, "dir/new.txt")).mode & 0o777).toString(8), "640");
    assert.equal((statSync(join(ws.dir, "dir/made")).mode & 0o777).toString(8), "750");
    // Nor is anything left of the agent's own sandbox: the mount points codex makes for the names it
    // protects in a folder it may write (.git, .codex, .agents, ...) are gone with it.
    assert.deepEqual(readdirSync(join(ws.dir, "dir")).sort(), ["made", "new.txt", "x.txt"]);
    assertUntouched();
  });

  test("two writers of one folder: the first to end takes none of the other's work and leaves its sandbox whole", async () => {
    // Each agent's own sandbox mounts over .git (and .codex, .agents, .aws) in the folder it may write,
    // made empty on the host where missing; removing it while the other runs would unmount it there.
    // And what the first leaves beside its file is moved out when it ends, but not the file the second
    // made in its own scope. The second runs without Baton's sandbox (--unconfined): its agent's own
    // sandbox is all it has, and its file is its work all the same.
    const pair = join(ws.dir, "pair");
    mkdirSync(pair);
    writeFileSync(join(pair, "a.txt"), "a\n");
    const go = (n: number) => join(ws.dir, `pair-go-${n}`);
    const waitFor = (n: number) => `while [ ! -e '${go(n)}' ]; do sleep 0.1; done`;
    const spawnWriter = async (file: string, command: string, flags: string[] = []) => {
      const steps = [
        { type: "shell", command },
        { type: "message", text: "{{output}}" },
      ];
      const prompt = `confinement\n${modelScriptLine(steps as never)}`;
      return (await ws.ok(["spawn", ...flags, "--write", `pair/${file}`, prompt])).trim();
    };
    const first = await spawnWriter(
      "a.txt",
      `${waitFor(1)}; printf planted > '${join(pair, "a.txt")}'; printf junk > '${join(pair, "junk.txt")}'`,
    );
    const second = await spawnWriter(
      "c.txt",
      `printf made > '${join(pair, "c.txt")}'; ${waitFor(2)}; mkdir -p '${join(pair, ".git")}' 2>/dev/null; ${attempt([join(pair, ".git/HEAD")])}`,
      ["--unconfined"],
    );
    // Both agents are in their commands, each in its own sandbox.
    await ws.printed(first, /while \[/);
    await ws.printed(second, /while \[/);
    writeFileSync(go(1), "");
    await ws.baton(["wait", first]);
    assert.equal(readFileSync(join(pair, "a.txt"), "utf8"), "planted");
    assert.equal(
      existsSync(join(pair, "junk.txt")),
      false,
      "what the first made beside its file is moved out",
    );
    assert.equal(readFileSync(join(pair, "c.txt"), "utf8"), "made", "the second's file stays");
    assert.ok(
      existsSync(join(pair, ".git")),
      `the second agent's mount point stays while it runs: ${readdirSync(pair).join(" ")}; ${JSON.stringify(await ws.json(["result", first]))}`,
    );
    writeFileSync(go(2), "");
    await ws.baton(["wait", second]);
    const result = await ws.json<WorkerResult>(["result", second]);
    assert.equal(verdicts(result.answer).get(join(pair, ".git/HEAD")), "DENIED", result.answer);
    // Once the last of them has ended, nothing of either sandbox is left.
    assert.deepEqual(readdirSync(pair).sort(), ["a.txt", "c.txt"]);
    for (const n of [1, 2]) rmSync(go(n));
  });

  test("an isolated writer writes only in its own worktree", async () => {
    const shared = join(ws.dir, "notes.txt");
    const result = await run(
      ["--isolate", "--write", "notes.txt"],
      [
        { type: "shell", command: `${attempt(["notes.txt", shared, ".git", ...forbidden()])}; pwd` },
        { type: "message", text: "{{output}}" },
      ],
    );
    const seen = verdicts(result.answer);
    assert.equal(seen.get("notes.txt"), "WROTE", result.answer);
    for (const target of [shared, ".git", ...forbidden()])
      assert.equal(seen.get(target), "DENIED", `${target}: ${result.answer}`);
    assert.equal(readFileSync(shared, "utf8"), "original\n", "the shared checkout is untouched");
    assert.deepEqual(result.isolation?.changedFiles, ["notes.txt"]);
    assert.equal(git(ws.dir, "show", `${result.isolation?.branch}:notes.txt`), "planted");
    assertUntouched();
  });

  test("an implementer without --write writes the workspace but never the store, .git or the network", async () => {
    // The list of the user's stores (here in the workspace: the harness's XDG_STATE_HOME) stays read-only.
    const stores = join(ws.env.XDG_STATE_HOME as string, "baton", "stores");
    assert.ok(existsSync(stores), "the workspace's store was listed when it was made");
    const targets = [
      join(ws.dir, "dir/impl.txt"),
      ...forbidden().slice(0, 3),
      join(ws.dir, ".git/planted"),
      join(stores, "planted"),
    ];
    const port = new URL(ws.model.baseUrl).port;
    const network = `(exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null && echo NET-OPEN || echo NET-BLOCKED`;
    const result = await run(
      ["--role", "implementer"],
      [
        { type: "shell", command: `${attempt(targets)}; ${network}` },
        { type: "message", text: "{{output}}" },
      ],
    );
    const seen = verdicts(result.answer);
    assert.equal(seen.get(targets[0] as string), "WROTE", result.answer);
    for (const target of targets.slice(2))
      assert.equal(seen.get(target), "DENIED", `${target}: ${result.answer}`);
    // What codex's own sandbox adds is kept: its commands have no network.
    assert.match(result.answer, /NET-BLOCKED/);
    rmSync(join(ws.dir, "dir/impl.txt"));
    git(ws.dir, "checkout", "--", "top.txt");
  });

  test("no worker reaches the user's own codex daemon: its socket's folder is an empty one of the sandbox's", async () => {
    // The user's codex TUI detaches an app-server daemon that runs commands for its clients, on a
    // socket in this folder; a worker that could connect would act outside its scope.
    const folder = `/tmp/codex-daemon-${process.getuid!()}`;
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const socket = join(folder, `baton-test-${process.pid}.sock`);
    let connections = 0;
    const daemon = createServer((client) => {
      connections++;
      client.destroy();
    });
    await new Promise<void>((resolve) => daemon.listen(socket, resolve));
    try {
      for (const args of [[], ["--role", "implementer"]]) {
        const fixture = join(FIXTURES, "daemon-socket-command.sh");
        const id = (await ws.ok(["spawn", "--cmd", fixture, ...args, socket])).trim();
        await ws.baton(["wait", id]);
        const result = await ws.json<WorkerResult>(["result", id]);
        assert.equal(result.confinement, "baton");
        assert.match(result.answer, /^folder holds: \[\]\nREFUSED ENOENT$/, result.answer);
      }
      assert.equal(connections, 0, "nothing connected to the daemon's socket");
    } finally {
      await new Promise((resolve) => daemon.close(resolve));
    }
  });

  test("a link planted where the codex daemon's folder goes is never mounted on", async (t) => {
    // On a shared /tmp another user can make the folder first, as a link to a folder of the victim's:
    // a mount there would cover that folder inside the worker's sandbox.
    const folder = `/tmp/codex-daemon-${process.getuid!()}`;
    try {
      rmdirSync(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        t.skip(`${folder} is in use here`); // the user's own codex has its daemon there: left alone
        return;
      }
    }
    const target = mkdtempSync(join(tmpdir(), "baton-victim-"));
    writeFileSync(join(target, "kept.txt"), "the victim's\n");
    symlinkSync(target, folder);
    try {
      const fixture = join(FIXTURES, "daemon-socket-command.sh");
      const id = (await ws.ok(["spawn", "--cmd", fixture, join(folder, "any.sock")])).trim();
      await ws.baton(["wait", id]);
      const result = await ws.json<WorkerResult>(["result", id]);
      assert.equal(result.confinement, "baton");
      // Through the link the worker sees the folder as it is: nothing was mounted over it.
      assert.match(result.answer, /^folder holds: \[kept\.txt \]\nREFUSED ENOENT$/, result.answer);
      assert.equal(lstatSync(folder).isSymbolicLink(), true, "the link is left as it was");
    } finally {
      rmSync(folder, { force: true });
      rmSync(target, { recursive: true, force: true });
    }
  });

  test("no worker sees or signals a process outside its sandbox: the user's, or the supervisor", async () => {
    const outside = spawn("sleep", ["300"], { stdio: "ignore" });
    try {
      for (const args of [[], ["--role", "implementer"]]) {
        // Looked for: the supervisor, once there is one (the first spawn starts it), else this test.
        const looked = ws.supervisorPid() ?? process.pid;
        const fixture = join(FIXTURES, "signal-command.sh");
        const id = (await ws.ok(["spawn", "--cmd", fixture, ...args, `${outside.pid} ${looked}`])).trim();
        await ws.baton(["wait", id]);
        const result = await ws.json<WorkerResult>(["result", id]);
        assert.equal(result.confinement, "baton");
        // Its own /proc: the sandbox's first process, the shell, and what the shell runs.
        assert.match(result.answer, /^signal: refused\nproc: unseen\nprocesses: [1-5]$/, result.answer);
        assert.equal(outside.exitCode, null, "the user's process is alive");
        assert.equal(outside.signalCode, null, "the user's process was not signalled");
      }
    } finally {
      outside.kill("SIGKILL");
    }
  });

  test("a --write that contains the run store, or lies in it, is refused in one line", async () => {
    for (const path of [".", ".baton", ".baton/workers"]) {
      const refused = await ws.baton(["spawn", "--write", path, "x"]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /^baton: --write \S+ (contains|is inside) the run store .*\n$/);
    }
  });

  test("a --write whose folder would be / is refused in one line that says why", async () => {
    const root = await ws.baton(["spawn", "--write", "/", "x"]);
    assert.equal(root.code, 2, root.stderr);
    assert.equal(
      root.stderr,
      "baton: --write /: Baton lets no worker write in / itself: name a folder below it\n",
    );
    const missing = await ws.baton(["spawn", "--write", "/no-such-folder-of-baton/file.txt", "x"]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(
      missing.stderr,
      /^baton: --write \/no-such-folder-of-baton\/file\.txt: its nearest existing folder is \/, .*make the folder it goes in first.*\n$/,
    );
  });

  test("--unconfined runs without Baton's sandbox, and ls and result --json say so", async () => {
    const result = await run(["--unconfined", "--write", "dir"], [{ type: "message", text: "ok" }]);
    assert.equal(result.state, "succeeded");
    assert.equal((await specOf(result.id)).confinement, "unconfined");
    const { workers } = await ws.json<{ workers: { id: string; confinement: string }[] }>(["ls"]);
    assert.equal(workers.find((r) => r.id === result.id)?.confinement, "unconfined");
    assert.equal(result.confinement, "unconfined");
    assert.match(await ws.ok(["ls"]), /unconfined/);
  });

  test("a thread id an agent prints is kept only if it has an id's shape: never a flag for resume", async () => {
    const id = (
      await ws.ok(["spawn", "--codex-bin", join(FIXTURES, "forged-thread-agent.sh"), "forge a thread"])
    ).trim();
    await ws.baton(["wait", id]);
    const result = await ws.json<WorkerResult>(["result", id]);
    assert.equal(result.answer.trim(), "forged");
    assert.equal(result.threadId, undefined);
    const follow = await ws.baton(["spawn", "--continue", id, "more"]);
    assert.notEqual(follow.code, 0, "no follow-up without a real thread");
  });

  const specOf = async (id: string) =>
    JSON.parse(readFileSync(join(ws.home, "workers", id, "spec.json"), "utf8")) as { confinement: string };
});

test("where a sandbox cannot have a /proc of its own (some containers), a worker still signals nothing outside it", async () => {
  const ws = await Workspace.create(directiveScript());
  ws.env = { ...ws.env, BATON_BWRAP: join(FIXTURES, "bwrap-without-new-proc.sh") };
  const outside = spawn("sleep", ["300"], { stdio: "ignore" });
  try {
    const fixture = join(FIXTURES, "signal-command.sh");
    const id = (await ws.ok(["spawn", "--cmd", fixture, `${outside.pid} ${process.pid}`])).trim();
    await ws.baton(["wait", id]);
    const result = await ws.json<WorkerResult>(["result", id]);
    assert.equal(result.confinement, "baton");
    // The host's /proc shows this test; its process namespace still keeps every signal in.
    assert.match(result.answer, /^signal: refused\nproc: seen\nprocesses: \d+$/, result.answer);
    assert.equal(outside.exitCode, null, "the user's process is alive");
  } finally {
    outside.kill("SIGKILL");
    await ws.cleanup();
  }
});
