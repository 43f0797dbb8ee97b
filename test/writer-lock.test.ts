import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerInfo } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { FIXTURES, sleep, Workspace } from "./support/harness.ts";

const INTERACTIVE = join(FIXTURES, "interactive-agent.mjs");

async function states(ws: Workspace, ids: readonly string[]): Promise<string[]> {
  const { workers } = await ws.json<{ workers: WorkerInfo[] }>(["ls"]);
  return ids.map((id) => workers.find((w) => w.id === id)?.state ?? "missing");
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
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
    await until(
      async () => (await states(ws, [reader, other])).every((s) => s === "running"),
      "reader and other",
    );
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
    await until(async () => (await states(ws, [second!]))[0] === "running", "the second writer to start");
    assert.deepEqual(await states(ws, [first!]), ["succeeded"]);
    await ws.ok(["stop", "--all", "--grace", "1"]);
  });
});
