import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { namespaceEmpty, namespaceInit } from "../dist/supervisor/leftovers.js";
import { StatScanner } from "../dist/supervisor/proc-stat.js";
import { agentStarted, identify, leftoversOf, scan } from "../dist/supervisor/processes.js";

// A scan for a worker's leftovers reads the stat line of every process on the machine. Between scans
// that follow each other, each stat file stays open and is read again in one call; what it reports
// must still be the truth: new processes seen, ended ones gone, and nothing held once scans stop.

/** Descriptors of this process open on some process's stat file. */
const statFds = () =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return /^\/proc\/[0-9]+\/stat$/.test(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      return false; // closed meanwhile (the one readdir used)
    }
  }).length;

test("stat files kept open between scans still show new processes, drop ended ones, and are closed after", async () => {
  const scanner = new StatScanner();
  assert.equal(statFds(), 0, "no stat file is open before a scan");
  const first = scanner.all();
  assert.ok(
    first.some((p) => p.pid === process.pid),
    "this process is listed",
  );
  assert.ok(statFds() > 0, "the stat files stay open after a scan");

  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  await new Promise((resolve) => child.once("spawn", resolve));
  const seen = scanner.all().find((p) => p.pid === child.pid);
  assert.equal(seen?.ppid, process.pid, "a process started since the last scan is read, with its parent");
  // Just after exec it may be running, sleeping or paging its program in (D); never a zombie.
  assert.match(seen?.state ?? "", /^[RSD]$/, `alive, not a zombie: ${seen?.state}`);

  child.kill("SIGKILL");
  await new Promise((resolve) => child.once("exit", resolve));
  assert.equal(
    scanner.all().find((p) => p.pid === child.pid),
    undefined,
    "a process that ended and was reaped is not listed again from its kept file",
  );

  scanner.release();
  assert.equal(statFds(), 0, "release closes every kept file");
});

test("a leftover that left its session is found by its marker; another running worker's session is left to it", async () => {
  const marker = `BATON_TEST_MARKER=${process.pid}-${Date.now()}`;
  const [name, value] = marker.split("=") as [string, string];
  const withMarker = { ...process.env, [name]: value };
  const started = async (args: string[]) => {
    const child = spawn("setsid", args, { stdio: "ignore", env: withMarker });
    await new Promise((resolve) => child.once("spawn", resolve));
    return child;
  };
  // Another worker's agent, the leader of its own session, with a process born into that session.
  // Both carry the marker too: what is in a running worker's session is that worker's, whatever its
  // environment says, and the scan does not even read it.
  const other = await started(["sh", "-c", "sleep 30 & wait"]);
  const otherAgent = agentStarted(other.pid!);
  assert.ok(otherAgent);
  // This worker's leftover: `setsid` put it in a session of its own; only its environment names it.
  const leftover = await started(["sleep", "30"]);
  try {
    const [found] = scan([{ root: { pid: 999_999_999, startTime: 0 }, marker }]);
    assert.deepEqual(
      found?.map((p) => p.pid),
      [leftover.pid],
      "the leftover, and nothing in the other worker's session",
    );
    // Once the other agent has ended, its session is no longer skipped.
    await leftoversOf(otherAgent, "BATON_TEST_UNUSED=1");
    const [after] = scan([{ root: { pid: 999_999_999, startTime: 0 }, marker }]);
    assert.ok(
      (after?.length ?? 0) >= 3,
      `the other session's processes carry the marker: ${JSON.stringify(after)}`,
    );
  } finally {
    leftover.kill("SIGKILL");
    process.kill(-other.pid!, "SIGKILL");
  }
});

test("a zombie is no leftover: it has ended, and nothing is signalled for it", async () => {
  const marker = `BATON_TEST_MARKER=zombie-${process.pid}-${Date.now()}`;
  const [name, value] = marker.split("=") as [string, string];
  // A child that exits at once, whose parent (perl, which never reaps it) prints its pid once it is a
  // zombie and sleeps. (A shell would reap it.)
  const script =
    '$|=1; my $p=fork(); exit 0 if !$p; while (1) { open(my $f,"<","/proc/$p/stat") or die; ' +
    'last if <$f> =~ /\\) Z /; } print "$p\\n"; sleep 30;';
  const agent = spawn("setsid", ["perl", "-e", script], {
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, [name]: value },
  });
  try {
    const zombie = Number(
      await new Promise<string>((resolve) =>
        agent.stdout.once("data", (chunk: Buffer) => resolve(String(chunk))),
      ),
    );
    assert.ok(zombie > 0);
    const root = agentStarted(agent.pid!);
    assert.ok(root);
    const [found] = scan([{ root, marker }]);
    assert.deepEqual(
      found?.map((p) => p.pid),
      [agent.pid],
      `perl, and not its zombie ${zombie}`,
    );
    assert.match(readFileSync(`/proc/${zombie}/stat`, "utf8"), /\) Z /, "it was still there, a zombie");
  } finally {
    process.kill(-agent.pid!, "SIGKILL");
  }
});

test("a sandbox's process namespace is empty once its agent has ended alone, and not while what it left runs", async () => {
  // Bubblewrap as Baton's sandbox runs it (a process namespace of its own), around a shell that
  // either ends alone or leaves a process in a session of its own.
  const sandboxed = (script: string) =>
    spawn(
      "bwrap",
      ["--ro-bind", "/", "/", "--dev", "/dev", "--unshare-pid", "--proc", "/proc", "--", "sh", "-c", script],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
  for (const [script, leaves] of [
    ["echo up; sleep 0.2", false],
    ["(setsid sleep 30 < /dev/null > /dev/null 2>&1 &); echo up; sleep 0.2", true],
  ] as const) {
    const child = sandboxed(script);
    await new Promise((resolve) => child.stdout.once("data", resolve)); // running inside by now
    const root = identify(child.pid!)!;
    const init = namespaceInit(root);
    assert.ok(init, `the namespace's first process is found (${script})`);
    assert.notEqual(init.pid, root.pid);
    assert.equal(namespaceEmpty(init), false, "not empty while the agent runs");
    await new Promise((resolve) => child.once("exit", resolve));
    assert.equal(namespaceEmpty(init), !leaves, script);
    if (leaves) process.kill(init.pid, "SIGKILL"); // its namespace, and the sleep in it, go with it
  }
  // Outside any sandbox there is no namespace to tell by: the whole look through /proc is kept.
  // (A shell with one child: the child is there, but in the same namespace.)
  const plain = spawn("sh", ["-c", "sleep 0.5; :"], { stdio: "ignore" });
  const shell = identify(plain.pid!)!;
  for (
    let i = 0;
    i < 100 && !readFileSync(`/proc/${shell.pid}/task/${shell.pid}/children`, "utf8").trim();
    i++
  )
    await sleep(5);
  assert.notEqual(readFileSync(`/proc/${shell.pid}/task/${shell.pid}/children`, "utf8").trim(), "");
  assert.equal(namespaceInit(shell), undefined);
  await new Promise((resolve) => plain.once("exit", resolve));
});
