import assert from "node:assert/strict";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { proveCaller } from "../dist/protocol/caller-proof.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { until, workerProcesses } from "./support/faults.ts";
import { Workspace } from "./support/harness.ts";

// What the supervisor's cheaper paths must still do (their cost is measured by `npm run bench`, never
// by a timed test): the end of a worker still stops what it left anywhere, found by its marker, when
// many end together and share one look at /proc; a client's proof of its pid is checked against the
// files that process holds, and a false one is refused.

/** An agent that leaves a process in a session of its own (no longer in its session or group). */
const ESCAPING_AGENT = `#!/bin/sh
cat > /dev/null
setsid sh -c 'trap "" HUP; exec sleep 300' < /dev/null > /dev/null 2>&1 &
sleep 0.2
echo '{"type":"item.completed","item":{"type":"agent_message","text":"escaped"}}'
`;

describe("the supervisor's cheaper paths", () => {
  let ws: Workspace;
  let agent: string;
  before(async () => {
    ws = await Workspace.create(directiveScript(() => ({ type: "message", text: "unscripted" })));
    agent = join(ws.dir, "escaping-agent.sh");
    writeFileSync(agent, ESCAPING_AGENT);
    chmodSync(agent, 0o755);
  });
  after(() => ws.cleanup());

  test("workers ending together each have what they left outside their session stopped, found by marker", async () => {
    const tasks = Array.from({ length: 6 }, (_, i) => ["--task", `escape ${i}`]).flat();
    const ids = (await ws.ok(["spawn", "--codex-bin", agent, "--max-parallel", "16", ...tasks]))
      .trim()
      .split("\n");
    assert.equal(ids.length, 6);
    const waited = await ws.baton(["wait", ...ids]);
    assert.equal(waited.code, 0, waited.stdout + waited.stderr);
    // Ended means its leftovers were signalled; one that is still a zombie is reaped by its new parent.
    await until(
      "nothing of any of them is left",
      () => ids.every((id) => workerProcesses(ws, id).length === 0),
      10_000,
    );
    for (const id of ids) assert.equal((await ws.ok(["result", id])).trim(), "escaped");
  });

  test("a hello whose proof the named process does not hold is refused; a true one is served", async () => {
    const { socket: path, pid: supervisor } = JSON.parse(
      readFileSync(join(ws.home, "supervisor.json"), "utf8"),
    ) as {
      socket: string;
      pid: number;
    };
    const exchange = (hello: Record<string, unknown>) =>
      new Promise<{ id: number; ok: boolean; error?: { message: string } }[]>((resolve, reject) => {
        const socket = net.createConnection(path);
        let text = "";
        socket.setEncoding("utf8");
        socket.on("data", (chunk: string) => {
          text += chunk;
          const replies = text.split("\n").filter(Boolean);
          if (replies.length >= 2 || (replies.length === 1 && !JSON.parse(replies[0]!).ok)) {
            socket.destroy();
            resolve(replies.map((line) => JSON.parse(line)));
          }
        });
        const replies = () =>
          text
            .split("\n")
            .filter(Boolean)
            .map((line) => JSON.parse(line));
        // A refused hello closes the connection at once: the request after it may meet a closed pipe.
        socket.on("error", (error: NodeJS.ErrnoException) =>
          error.code === "EPIPE" || error.code === "ECONNRESET" ? resolve(replies()) : reject(error),
        );
        socket.on("close", () => resolve(replies()));
        socket.write(
          `${JSON.stringify({ id: 0, method: "hello", params: hello })}\n${JSON.stringify({ id: 1, method: "list" })}\n`,
        );
      });

    // Another process's pid with a made-up proof: that process holds no such file.
    const forged = await exchange({ pid: supervisor, proof: "a".repeat(64) });
    assert.equal(forged[0]?.ok, false);
    assert.match(
      forged[0]?.error?.message ?? "",
      new RegExp(`process ${supervisor} does not hold this connection`),
    );
    assert.equal(forged.length, 1, "nothing after a refused hello is answered");

    // This process's own pid with a proof it holds: served.
    const proof = proveCaller(path);
    assert.ok(proof, "the proof file can be made beside the socket");
    try {
      const served = await exchange({ pid: process.pid, proof: proof.secret });
      assert.deepEqual(
        served.map((r) => [r.id, r.ok]),
        [
          [0, true],
          [1, true],
        ],
      );
      // The same secret named for another pid: the other process does not hold it.
      const stolen = await exchange({ pid: supervisor, proof: proof.secret });
      assert.equal(stolen[0]?.ok, false);
    } finally {
      proof.release();
    }
  });
});
