import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { WorkerInfo } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { waitForState } from "./support/faults.ts";
import { CLI, FIXTURES, Workspace } from "./support/harness.ts";

// The writer lock compares real paths: two writers whose paths overlap never run at once, however the
// paths are spelled (a symbolic link, `..` after a link, a path that does not exist yet, a bind mount).

const INTERACTIVE = join(FIXTURES, "interactive-agent.mjs");

async function states(ws: Workspace, ids: readonly string[]): Promise<string[]> {
  const { workers } = await ws.json<{ workers: WorkerInfo[] }>(["ls"]);
  return ids.map((id) => workers.find((w) => w.id === id)?.state ?? "missing");
}

/** A fresh workspace with `src/shared.ts`, `src/deep/`, and links `alias -> src`, `deeplink -> src/deep`. */
async function workspace(): Promise<Workspace> {
  const ws = await Workspace.create(directiveScript());
  mkdirSync(join(ws.dir, "src", "deep"), { recursive: true });
  writeFileSync(join(ws.dir, "src", "shared.ts"), "export {};\n");
  symlinkSync(join(ws.dir, "src"), join(ws.dir, "alias"));
  symlinkSync("src/deep", join(ws.dir, "deeplink"));
  return ws;
}

describe("the writer lock by real path", () => {
  let ws: Workspace;
  before(async () => {
    ws = await workspace();
  });
  after(() => ws.cleanup());

  test("writers spelling one file through a link, `..` after a link, or a missing path through a link wait their turn", async () => {
    const writer = async (path: string, ...more: string[]) =>
      (await ws.ok(["spawn", "--codex-bin", INTERACTIVE, "--write", path, ...more, `write ${path}`])).trim();
    const first = await writer("src/shared.ts");
    await waitForState(ws, first, "running");
    const viaLink = await writer("alias/shared.ts");
    // Lexically `deeplink/..` is the workspace; on disk it is src/, so this is src/shared.ts again.
    const viaDotDot = await writer("deeplink/../shared.ts");
    const newFile = await writer("alias/new/file.ts"); // does not exist: resolved through alias -> src
    const elsewhere = await writer("src/other.ts");
    await waitForState(ws, elsewhere, "running");
    assert.deepEqual(await states(ws, [first, viaLink, viaDotDot, newFile, elsewhere]), [
      "running",
      "queued",
      "queued",
      "running",
      "running",
    ]);

    const real = realpathSync(join(ws.dir, "src"));
    const spec = (id: string) =>
      JSON.parse(readFileSync(join(ws.home, "workers", id, "spec.json"), "utf8")) as {
        scope: { paths: string[] };
      };
    assert.deepEqual(spec(viaLink).scope.paths, [join(real, "shared.ts")], "stored as the real path");
    assert.deepEqual(spec(viaDotDot).scope.paths, [join(real, "shared.ts")]);
    assert.deepEqual(spec(newFile).scope.paths, [join(real, "new", "file.ts")]);

    const refused = await ws.baton([
      "spawn",
      "--codex-bin",
      INTERACTIVE,
      "--no-wait",
      "--write",
      "nothere/../alias",
      "impatient",
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`^baton: worker ${first} holds ${real}/shared.ts for writing`));

    await ws.ok(["send", first, "quit"]);
    await waitForState(ws, viaLink, "running");
    assert.deepEqual(await states(ws, [first, viaDotDot]), ["succeeded", "queued"], "still one at a time");
    await ws.ok(["stop", "--all", "--grace", "1"]);
  });
});

describe("the writer lock across a bind mount", () => {
  let ws: Workspace;
  before(async () => {
    ws = await workspace();
    mkdirSync(join(ws.dir, "mirror"));
  });
  after(() => ws.cleanup());

  test("a writer naming a bind mount of a held folder waits; --no-wait is refused", async () => {
    // A mount namespace of its own, so the bind is seen by this test's supervisor only (it starts there).
    const baton = (args: string) => `"${process.execPath}" "${CLI}" ${args}`;
    const script = [
      "set -e",
      `mount --bind "${ws.dir}/src" "${ws.dir}/mirror"`,
      baton(`spawn --codex-bin "${INTERACTIVE}" --write src "hold src"`),
      baton(
        `spawn --codex-bin "${INTERACTIVE}" --write mirror/shared.ts --no-wait "impatient" || echo refused: $?`,
      ),
      baton(`spawn --codex-bin "${INTERACTIVE}" --write mirror/deep "patient"`),
      baton(`ls --json > "${ws.dir}/listing.json"`),
      baton("stop --all --grace 1 >/dev/null"),
      baton("shutdown >/dev/null"),
    ].join("\n");
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile("unshare", ["-m", "sh", "-c", script], { env: ws.env, cwd: ws.dir }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });
    assert.equal(out.code, 0, out.stderr);
    const [holder, refusal, patient] = out.stdout.split("\n");
    assert.equal(holder, "w1");
    assert.equal(refusal, "refused: 1");
    assert.match(out.stderr, /baton: worker w1 holds .*\/src for writing/);
    assert.equal(patient, "w2");
    const listing = readFileSync(join(ws.dir, "listing.json"), "utf8");
    const { workers } = JSON.parse(listing) as { workers: WorkerInfo[] };
    assert.deepEqual(
      workers.map((w) => `${w.id} ${w.state}`),
      ["w1 running", "w2 queued"],
    );
  });
});
