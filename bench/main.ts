import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { directiveScript, message, startScriptedModel } from "../dist/scripted-model/index.js";
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
import { contextEconomy } from "./context-economy.ts";
import { fanout } from "./fanout.ts";
import { idleMemory } from "./idle-memory.ts";
import { machine, render, spliceSection } from "./report.ts";
import { spawnToResult } from "./spawn-to-result.ts";
import { waitLatency } from "./wait-latency.ts";

// `npm run bench`: runs every measurement once and writes bench/RESULTS.md.
// `npm run bench -- context-economy`: runs that one, and replaces only its section and target row.

const ALONE = ["context-economy"];

const TASK_LINE = /^TASK: (.*)$/m;

async function main(argv: readonly string[]): Promise<void> {
  const unknown = argv.filter((name) => !ALONE.includes(name));
  if (unknown.length > 0)
    throw new Error(`no benchmark named ${unknown.join(", ")}: run one of ${ALONE.join(", ")}, or all`);
  const startedAt = new Date();
  const loadAtStart = loadavg()[0]!;
  chmodSync(STAMP_AGENT, 0o755);
  const root = mkdtempSync(join(tmpdir(), "baton-bench-"));
  // A worker whose prompt carries a MODEL-SCRIPT follows it (context economy); the others answer `done: <task>`.
  const model = await startScriptedModel({
    script: directiveScript((request) =>
      message(expectedAnswer(TASK_LINE.exec(request.userText)?.[1] ?? "?")),
    ),
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
    if (argv.includes("context-economy")) {
      const ws = await opened("context");
      const section = await contextEconomy(ws);
      await close(ws);
      const file = join(ROOT, "bench/RESULTS.md");
      writeFileSync(file, spliceSection(readFileSync(file, "utf8"), section));
      log(
        `updated its section of bench/RESULTS.md in ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`,
      );
      return;
    }

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
    sections.push(await contextEconomy(ws));
    await close(ws);

    writeFileSync(join(ROOT, "bench/RESULTS.md"), render(sections, info, startedAt, loadAtStart));
    log(`wrote bench/RESULTS.md in ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`);
  } finally {
    for (const ws of [...open]) await closeWorkspace(ws).catch((e: Error) => log(`cleanup: ${e.message}`));
    await model.close();
    rmSync(root, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  log(`failed: ${(error as Error)?.stack ?? String(error)}`);
  process.exitCode = 1;
});
