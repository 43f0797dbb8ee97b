import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { message, startScriptedModel } from "../dist/scripted-model/index.js";
import {
  closeWorkspace,
  expectedAnswer,
  log,
  openWorkspace,
  ROOT,
  type Section,
  STAMP_AGENT,
  type Workspace,
} from "./common.ts";
import { fanout } from "./fanout.ts";
import { idleMemory } from "./idle-memory.ts";
import { machine, render } from "./report.ts";
import { spawnToResult } from "./spawn-to-result.ts";
import { waitLatency } from "./wait-latency.ts";

// `npm run bench`: runs every measurement once and writes bench/RESULTS.md.

const TASK_LINE = /^TASK: (.*)$/m;

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = loadavg()[0]!;
  chmodSync(STAMP_AGENT, 0o755);
  const root = mkdtempSync(join(tmpdir(), "baton-bench-"));
  const model = await startScriptedModel({
    script: (request) => message(expectedAnswer(TASK_LINE.exec(request.userText)?.[1] ?? "?")),
  });
  const open: Workspace[] = [];
  const opened = async (name: string) => {
    const ws = await openWorkspace(root, name);
    open.push(ws);
    return ws;
  };
  const close = async (ws: Workspace) => {
    open.splice(open.indexOf(ws), 1);
    await closeWorkspace(ws);
  };
  try {
    await model.writeCodexHome(join(root, "codex-home"));
    const info = machine();
    const sections: Section[] = [];

    // A fresh supervisor of its own, so that its baseline memory is that of a new supervisor.
    const idle = await opened("idle");
    const idleSection = await idleMemory(idle);
    await close(idle);

    const ws = await opened("main");
    sections.push(await spawnToResult(ws));
    sections.push(
      await fanout(ws, [
        [1, 7],
        [8, 4],
        [32, 3],
      ]),
    );
    sections.push(idleSection);
    sections.push(await waitLatency(ws));
    await close(ws);

    writeFileSync(join(ROOT, "bench/RESULTS.md"), render(sections, info, startedAt, loadAtStart));
    log(`wrote bench/RESULTS.md in ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`);
  } finally {
    for (const ws of [...open]) await closeWorkspace(ws).catch((e: Error) => log(`cleanup: ${e.message}`));
    await model.close();
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  log(`failed: ${(error as Error)?.stack ?? String(error)}`);
  process.exitCode = 1;
});
