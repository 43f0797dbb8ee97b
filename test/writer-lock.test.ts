import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerInfo } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { waitForState } from "./support/faults.ts";
import { FIXTURES, Workspace } from "./support/harness.ts";

const INTERACTIVE = join(FIXTURES, "interactive-agent.mjs");

async function states(ws: Workspace, ids: readonly string[]): Promise<string[]> {
  const { workers } = await ws.json<{ workers: WorkerInfo[] }>(["ls"]);
  return ids.map((id) => workers.find((w) => w.id === id)?.state ?? "missing");
}

describe("many readers, one writer", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create(directiveScript());
  });
  after(() => ws.cleanup());

  test("two writers racing for the same path run one after the other; readers are not held up", async () => {
    const writer = (name: string) =>
      ws.ok(["spawn", "--codex-bin", INTERACTIVE, "--write", "src/shared.ts", name]);
    const [a, b] = (await Promise.all([writer("writer a"), writer("writer b")])).map((out) => out.trim());
    const reader = (await ws.ok(["spawn", "--codex-bin", INTERACTIVE, "--read-only", "reader"])).trim();
    const other = (
      await ws.ok(["spawn", "--codex-bin", INTERACTIVE, "--write", "docs", "other writer"])
    ).trim();
    for (const id of [reader, other]) await waitForState(ws, id, "running");
    const [first, second] = [a!, b!].sort((x, y) => Number(x.slice(1)) - Number(y.slice(1)));
    assert.deepEqual(await states(ws, [first!, second!]), ["running", "queued"]);

    const refused = await ws.baton([
      "spawn",
      "--codex-bin",
      INTERACTIVE,
      "--write",
      "src",
      "--no-wait",
      "impatient",
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`^baton: worker ${first} holds .*src/shared.ts for writing`));

    await ws.ok(["send", first!, "quit"]);
    await waitForState(ws, second!, "running");
    assert.deepEqual(await states(ws, [first!]), ["succeeded"]);
    await ws.ok(["stop", "--all", "--grace", "1"]);
  });
});
