import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { test } from "node:test";
import { spawnAgent } from "../dist/supervisor/agent-terminal.js";

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
