import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { spawnAgent, startAgent } from "../dist/supervisor/agent-terminal.js";

// node-pty destroys a terminal 200 ms after its process has exited, read to the end or not. A
// supervisor busy with other workers reads late; what the agent printed last (often its answer) must
// still come through.

test("a terminal read late still hands on the end of what its agent printed", async () => {
  const lines = Array.from({ length: 60 }, (_, i) => `line ${i} ${"x".repeat(40)}`).join("\n");
  const terminal = spawnAgent(
    "terminal",
    {
      file: "/bin/sh",
      args: ["-c", `printf '%s\\n' "${lines}"; echo THE-ANSWER`],
      env: { PATH: "/usr/bin:/bin" },
    },
    tmpdir(),
  );
  let seen = "";
  terminal.onData((data) => {
    seen += data;
  });
  // Nothing is read off the terminal from now on, as when the supervisor's event loop is held up: the
  // agent's output stays in the kernel until node-pty gives up on the terminal, 200 ms after the exit.
  // (Node's socket takes a handle marked as reading to be reading already, and never starts it.)
  const socket = (terminal as unknown as { _socket: { _handle: { reading: boolean } } })._socket;
  socket._handle.reading = true;
  const exit = await new Promise<{ exitCode: number }>((resolve) => terminal.onExit(resolve));
  assert.equal(exit.exitCode, 0);
  assert.match(seen, /line 59 x+\r?\nTHE-ANSWER\r?\n$/, JSON.stringify(seen.slice(-200)));
  assert.match(seen, /^line 0 /);
});

// Agents start by Baton's spawner (native/spawn.c), in a terminal the supervisor opens, so that the
// supervisor never forks itself; where the spawner is gone, by node-pty's fork again.

const statOf = (pid: number) => {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    comm: text.slice(text.indexOf("(") + 1, text.lastIndexOf(")")),
    ppid: Number(fields[1]),
    session: Number(fields[3]),
    tty: Number(fields[4]),
  };
};

const started = (script: string) =>
  startAgent("pty", { file: "/bin/sh", args: ["-c", script], env: { PATH: "/usr/bin:/bin" } }, tmpdir());

test("an agent started by the spawner runs in a terminal of its own, is typed into, and ends as node-pty's do", async () => {
  const terminal = await started('read line; echo "got:$line"; exit 3');
  const proc = statOf(terminal.pid);
  assert.equal(statOf(proc.ppid).comm, "baton-spawn", "its parent is the spawner, not this process");
  assert.equal(proc.session, terminal.pid, "it leads a session of its own");
  assert.notEqual(proc.tty, 0, "with the terminal as its controlling terminal");
  let seen = "";
  terminal.onData((data) => {
    seen += data;
  });
  terminal.write("hello\r");
  const exit = await new Promise<{ exitCode: number; signal?: number }>((resolve) =>
    terminal.onExit(resolve),
  );
  assert.deepEqual([exit.exitCode, exit.signal], [3, 0]);
  assert.match(seen, /got:hello/);
});

test("Ctrl+C typed into a spawned agent's terminal interrupts it, and a signal's end is told as node-pty tells it", async () => {
  const terminal = await started("echo ready; sleep 30");
  const ready = new Promise<void>((resolve) =>
    terminal.onData((data) => data.includes("ready") && resolve()),
  );
  const exit = new Promise<{ exitCode: number; signal?: number }>((resolve) => terminal.onExit(resolve));
  await ready;
  terminal.write("\x03");
  assert.deepEqual(
    Object.values(await exit).slice(0, 2),
    [0, 2],
    "SIGINT, from the terminal's line discipline",
  );
});

test("a spawned terminal read late still hands on the end of what its agent printed", async () => {
  const lines = Array.from({ length: 60 }, (_, i) => `line ${i} ${"x".repeat(40)}`).join("\n");
  const terminal = await started(`printf '%s\\n' "${lines}"; echo THE-ANSWER`);
  let seen = "";
  terminal.onData((data) => {
    seen += data;
  });
  const socket = (terminal as unknown as { socket: { _handle: { reading: boolean } } }).socket;
  socket._handle.reading = true;
  const exit = await new Promise<{ exitCode: number }>((resolve) => terminal.onExit(resolve));
  assert.equal(exit.exitCode, 0);
  assert.match(seen, /line 59 x+\r?\nTHE-ANSWER\r?\n$/, JSON.stringify(seen.slice(-200)));
});

test("when the spawner ends, an agent it started still runs and ends as lost, and the next starts by a fork", async () => {
  const terminal = await started('echo ready; read line; echo "after:$line"');
  const spawnerPid = statOf(terminal.pid).ppid;
  let seen = "";
  const ready = new Promise<void>((resolve) =>
    terminal.onData((data) => {
      seen += data;
      if (seen.includes("ready")) resolve();
    }),
  );
  const exit = new Promise<{ exitCode: number; lost?: string }>((resolve) => terminal.onExit(resolve));
  await ready;
  process.kill(spawnerPid, "SIGKILL");
  const next = await started("read line");
  assert.equal(statOf(next.pid).ppid, process.pid, "started by a fork of this process");
  const nextExit = new Promise((resolve) => next.onExit(resolve));
  next.write("\r");
  await nextExit;
  terminal.write("on\r"); // it is still there, and still reads its terminal
  const ended = await exit;
  assert.match(seen, /after:on/);
  assert.match(ended.lost ?? "", /spawner ended before the agent did/);
});

// Once an agent has let its terminal go, libuv takes the next short read off it for the end of its
// output, though the terminal may still hold kilobytes (it gives 4 KiB a read): an agent that printed
// its last 10 KiB as it exited, while the supervisor was busy, lost the end of it, often its answer.

test("an agent that prints its last 10 KiB as it exits, while its reader is busy, is read to the end, every character whole", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "baton-late-end-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${"é".repeat(20)}`).join("\n");
  const starts = {
    spawner: (script: string) => started(script),
    "node-pty": async (script: string) =>
      spawnAgent("pty", { file: "/bin/sh", args: ["-c", script], env: { PATH: "/usr/bin:/bin" } }, tmpdir()),
  };
  for (const [by, start] of Object.entries(starts)) {
    const exited = join(dir, `exited-${by}`);
    execFileSync("mkfifo", [exited]);
    // The fifo is held open until the agent exits: reading it to its end holds this process's event
    // loop until then, as a busy supervisor's would be, with all the agent printed still unread.
    const terminal = await start(`exec 3>"${exited}"; printf '%s\\n' "${lines}"; echo THE-ANSWER`);
    let seen = "";
    terminal.onData((data) => {
      seen += data;
    });
    const exit = new Promise<{ exitCode: number }>((resolve) => terminal.onExit(resolve));
    readFileSync(exited);
    assert.equal((await exit).exitCode, 0);
    assert.match(seen, /line 199 é{20}\r?\nTHE-ANSWER\r?\n$/, `${by}: ${JSON.stringify(seen.slice(-120))}`);
    assert.equal(seen.split("\n").length, 202, `${by}: every line`);
    assert.ok(!seen.includes("\ufffd"), `${by}: no character was cut`);
  }
});
