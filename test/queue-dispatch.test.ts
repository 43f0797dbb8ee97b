import assert from "node:assert/strict";
import { test } from "node:test";
import { splitCommandLine } from "../src/backend/argv.js";
import { commandLine } from "../src/queue/dispatch.js";
import { remoteProblem } from "../src/queue/git-remote.js";
import { WIRE_VERSION, workerJob } from "../src/queue/wire.js";

// A command or acp worker's program goes to its host as a command line, split there again.
test("a worker's program and arguments reach a host as the same words", () => {
  const argvs = [
    [
      "/opt/agents/my agent",
      "--flag",
      "two words",
      "it's",
      "",
      "$HOME",
      "*.ts",
      "a;b",
      "#x",
      "~/y",
      'q"q',
      "a\\b",
    ],
    ["./review.sh"],
    ["/usr/bin/env", "FOO=1", "node", "-e", "console.log('hi')"],
  ];
  for (const argv of argvs) assert.deepEqual(splitCommandLine(commandLine(argv)), argv, commandLine(argv));
});

// What names a git remote crosses Redis: a host checks it before git ever sees it.
test("a git remote in a job is a plain URL or path, never a helper, an option or a password", () => {
  for (const ok of [
    "/srv/git/repo.git",
    "https://example.com/r.git",
    "ssh://git@example.com/r.git",
    "git@example.com:org/r.git",
    "file:///srv/r.git",
  ])
    assert.equal(remoteProblem(ok), undefined, ok);
  const refused: [string, RegExp][] = [
    ["ext::sh -c id", /transport helper/],
    ["fd::3", /transport helper/],
    ["--upload-pack=id", /starts with -/],
    ["ssh://-oProxyCommand=id/x", /host starts with -/],
    ["https://u:p@example.com/r.git", /password/],
    ["relative/path", /use file:\/\//],
    ["/srv/r.git\n--x", /control character/],
  ];
  for (const [url, why] of refused) assert.match(remoteProblem(url) ?? "accepted", why, url);
  const job = {
    v: WIRE_VERSION,
    workspace: "0123456789abcdef01234567",
    worker: "w1",
    request: { task: "t", cwd: "/w", backend: "codex" },
    files: {
      remote: "ext::sh -c id",
      ref: `refs/baton/0123456789abcdef01234567/${"a".repeat(40)}`,
      commit: "a".repeat(40),
      root: "/w",
    },
  };
  assert.equal(workerJob.safeParse(job).success, false);
  assert.equal(workerJob.safeParse({ ...job, files: { ...job.files, remote: "/srv/r.git" } }).success, true);
});
