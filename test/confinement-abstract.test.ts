import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { confiner } from "../dist/confine/index.js";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { FIXTURES, Workspace } from "./support/harness.ts";
import { listen } from "./support/listen.ts";

// An abstract Unix socket has a name and no path: no file in the sandbox can cover it. A desktop's
// bus or X server may listen on one (the bus's `systemd-run --user` starts any command outside every
// sandbox), and any worker could listen on one for other workers to reach. Inside Baton's sandbox,
// the launcher scopes them with Landlock: a worker reaches only those it made itself.

const FIXTURE = join(FIXTURES, "abstract-socket-command.mjs");
const name = (what: string) => `baton-test-${what}-${randomBytes(6).toString("hex")}`;

/**
 * Whether this kernel has Landlock's scope for abstract sockets (ABI 6, Linux 6.12): asked of the
 * kernel itself (landlock_create_ruleset's version query, system call 444), not of Baton.
 */
function kernelScopes(): boolean {
  const abi = spawnSync("perl", ["-e", "print syscall(444, 0, 0, 1)"], { encoding: "utf8" });
  return Number(abi.stdout) >= 6;
}

describe("abstract sockets, seen from workers", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(async () => {
    await ws?.cleanup();
  });

  const connectFrom = async (socketName: string, args: readonly string[]) => {
    const id = (await ws.ok(["spawn", "--cmd", FIXTURE, ...args, `connect ${socketName}`])).trim();
    await ws.baton(["wait", id]);
    const result = await ws.json<WorkerResult>(["result", id]);
    return { confinement: result.confinement, verdict: result.answer.split("\n").at(-1) };
  };

  test("a confined worker reaches no abstract socket made outside it, a worker's neither; its own works", async (t) => {
    if (!confiner().ok) return t.skip("no sandbox on this machine");
    if (!kernelScopes()) return t.skip("this kernel has no Landlock scope for abstract sockets (Linux 6.12)");
    const desktop = name("desktop-bus");
    const user = await listen(`\0${desktop}`);
    const listening = name("worker");
    let listener: string | undefined;
    try {
      for (const args of [[], ["--role", "implementer"]]) {
        assert.deepEqual(
          await connectFrom(desktop, args),
          { confinement: "baton", verdict: "REFUSED EPERM" },
          args.join(" "),
        );
      }
      assert.equal(user.connections(), 0, "nothing reached the user's program");
      // The program does listen: without Baton's sandbox, a worker gets through.
      assert.deepEqual(await connectFrom(desktop, ["--unconfined"]), {
        confinement: "unconfined",
        verdict: "CONNECTED",
      });
      assert.equal(user.connections(), 1);

      // A writer listening on one: it uses its own; a reader started after it cannot reach it.
      listener = (
        await ws.ok(["spawn", "--cmd", FIXTURE, "--role", "implementer", `listen ${listening}`])
      ).trim();
      const said = await ws.printed(listener, /LISTENING, itself: \w+/);
      assert.match(said, /LISTENING, itself: CONNECTED/);
      assert.deepEqual(await connectFrom(listening, []), { confinement: "baton", verdict: "REFUSED EPERM" });
      // Nor can the user's programs outside (no scope holds them back): the worker's socket is there.
      const outside = await new Promise<string>((resolve) => {
        const socket = createServer().listen(`\0${listening}`);
        socket.once("listening", () => {
          socket.close();
          resolve("free");
        });
        socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "?"));
      });
      assert.equal(outside, "EADDRINUSE", "the worker listens on that name");
    } finally {
      user.server.close();
      if (listener) await ws.baton(["stop", listener]);
    }
  });
});
