import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type AgentTerminal, spawnAgent } from "../dist/supervisor/agent-terminal.js";

// node-pty destroys a terminal 200 ms after its process has exited, read to the end or not. A
// supervisor busy with other workers reads late; what the agent printed last (often its answer) must
// still come through.

test("a terminal read late still hands on the end of what its agent printed", {
  timeout: 20_000,
}, async () => {
  const lines = Array.from({ length: 60 }, (_, i) => `line ${i} ${"x".repeat(40)}`).join("\n");
  const terminal = await spawnAgent(
    "terminal",
    {
      file: "/bin/sh",
      args: ["-c", `printf '%s\\n' "${lines}"; echo THE-ANSWER`],
      env: { PATH: "/usr/bin:/bin" },
    },
    tmpdir(),
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

// The native launcher's spawner (native/serve.h, src/supervisor/spawner.ts) forks the agents whose
// command is the launcher, so that the supervisor never forks itself: each agent must get the same
// terminal node-pty would give it, and its end must be told as node-pty tells it.

const LAUNCHER = join(import.meta.dirname, "..", "dist/native/baton-launch");
const ENV = { PATH: "/usr/bin:/bin" };

function served(script: string, env: Record<string, string> = ENV): Promise<AgentTerminal> {
  return spawnAgent(
    "terminal",
    { file: LAUNCHER, args: ["--agent", "--", "/bin/sh", "-c", script], env, launcher: LAUNCHER },
    tmpdir(),
    tmpdir(),
  );
}

function collect(terminal: AgentTerminal): { text: () => string; seen: (pattern: RegExp) => Promise<void> } {
  let text = "";
  const waiting: [RegExp, () => void][] = [];
  terminal.onData((data) => {
    text += data;
    for (const [pattern, resolve] of waiting) if (pattern.test(text)) resolve();
  });
  return {
    text: () => text,
    seen: (pattern) =>
      pattern.test(text) ? Promise.resolve() : new Promise((resolve) => waiting.push([pattern, resolve])),
  };
}

const exitOf = (terminal: AgentTerminal) =>
  new Promise<{ exitCode: number; signal?: number }>((resolve) => terminal.onExit(resolve));

const statOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
};
const sessionOf = (pid: number) => Number(statOf(pid)[3]);

/** This process's children running the spawner. */
function spawners(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return (
          Number(statOf(Number(pid))[1]) === process.pid &&
          readFileSync(`/proc/${pid}/cmdline`, "utf8").endsWith("--serve\0")
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

test("an agent the spawner starts has a terminal of its own, as node-pty's, and its exit code", {
  timeout: 20_000,
}, async () => {
  assert.ok(existsSync(LAUNCHER), "dist/native/baton-launch is built");
  const terminal = await served(
    'echo "pid $$ sid $(ps -o sid= -p $$ | tr -d " ") tty $(tty) TERM=$TERM PWD=$PWD"; stty -a; exit 3',
  );
  const output = collect(terminal);
  const exit = await exitOf(terminal);
  assert.deepEqual(exit, { exitCode: 3 });
  const [, pid, sid, tty] = /pid (\d+) sid (\d+) tty (\S+)/.exec(output.text()) ?? [];
  assert.equal(Number(pid), terminal.pid, output.text());
  assert.equal(sid, pid, "the agent leads a session of its own");
  assert.match(tty ?? "", /^\/dev\/pts\/\d+$/);
  assert.match(output.text(), new RegExp(`TERM=xterm-256color PWD=${tmpdir()}`));
  assert.match(output.text(), /rows 50; columns 200/);
  assert.match(output.text(), /[^-]iutf8/);
  const [spawner, ...more] = spawners();
  assert.equal(more.length, 0, "one spawner serves every agent");
  // A Ctrl+C or hangup meant for a supervisor in the foreground must not reach it.
  assert.notEqual(sessionOf(spawner!), sessionOf(process.pid), "the spawner has a session of its own");
});

test("agents started at once each get their own terminal and their own exit code", {
  timeout: 20_000,
}, async () => {
  const codes = Array.from({ length: 12 }, (_, i) => 10 + i);
  const terminals = await Promise.all(
    codes.map((code) => served(`echo "agent $$ ends ${code}"; exit ${code}`)),
  );
  const ends = await Promise.all(
    terminals.map(async (terminal) => {
      const output = collect(terminal);
      const exit = await exitOf(terminal);
      return { pid: terminal.pid, exit, text: output.text() };
    }),
  );
  ends.forEach(({ pid, exit, text }, i) => {
    assert.deepEqual(exit, { exitCode: codes[i] });
    assert.match(text, new RegExp(`agent ${pid} ends ${codes[i]}`));
  });
});

test("Ctrl+C typed into the terminal reaches the agent, and a signal's end is told as such", {
  timeout: 20_000,
}, async () => {
  const terminal = await served("echo ready; exec sleep 30");
  const output = collect(terminal);
  const exit = exitOf(terminal);
  await output.seen(/ready/);
  terminal.write("\x03");
  assert.deepEqual(await exit, { exitCode: 0, signal: 2 });
});

test("the end of what an agent printed comes through when the terminal is read late", {
  timeout: 20_000,
}, async () => {
  const lines = Array.from({ length: 60 }, (_, i) => `line ${i} ${"x".repeat(40)}`).join("\n");
  const terminal = await served(`printf '%s\\n' "${lines}"; echo THE-ANSWER`);
  const output = collect(terminal);
  const socket = (terminal as unknown as { socket: { _handle: { reading: boolean } } }).socket;
  socket._handle.reading = true;
  assert.deepEqual(await exitOf(terminal), { exitCode: 0 });
  assert.match(output.text(), /line 59 x+\r?\nTHE-ANSWER\r?\n$/);
  assert.match(output.text(), /^line 0 /);
});

test("an agent whose spawner was killed ends, with no exit code of its own, and the next starts anew", {
  timeout: 20_000,
}, async () => {
  const terminal = await served("echo ready; exec sleep 30");
  const output = collect(terminal);
  const exit = exitOf(terminal);
  await output.seen(/ready/);
  const [spawner] = spawners();
  assert.ok(spawner, "a spawner runs");
  process.kill(spawner, "SIGKILL");
  // Its agent is nobody's child Baton can wait for now: it counts as ended once its terminal closes.
  process.kill(terminal.pid, "SIGTERM");
  assert.deepEqual(await exit, { exitCode: -1 });
  const next = await served("exit 5");
  assert.deepEqual(await exitOf(next), { exitCode: 5 });
  assert.ok(!spawners().includes(spawner), "the killed spawner is gone");
});

test("an agent's environment holding a NUL byte is refused before anything starts", {
  timeout: 20_000,
}, async () => {
  await assert.rejects(served("exit 0", { ...ENV, BAD: "a\0b" }), /NUL byte/);
});
