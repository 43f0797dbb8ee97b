import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { directiveScript, message, startScriptedModel } from "../dist/scripted-model/index.js";
import { backends } from "./backends.ts";
import { cliFanout } from "./cli-fanout.ts";
import { cliStartup } from "./cli-startup.ts";
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
import { crashToLost } from "./crash-to-lost.ts";
import { fanout } from "./fanout.ts";
import { idleMemory } from "./idle-memory.ts";
import { machine, render, splice } from "./report.ts";
import { SCALE_OUT_PLAN, scaleOut } from "./scale-out.ts";
import { soak } from "./soak.ts";
import { spawnToResult } from "./spawn-to-result.ts";
import { waitLatency } from "./wait-latency.ts";
import { watchCost } from "./watch.ts";

// `npm run bench`: runs every measurement once and writes bench/RESULTS.md.
// `npm run bench -- soak context-economy`: runs only those, and rewrites only their sections of
// bench/RESULTS.md and their rows of its targets table.

const TASK_LINE = /^TASK: (.*)$/m;
const BENCHMARKS = [
  "spawn-to-result",
  "fanout",
  "idle-memory",
  "wait-latency",
  "context-economy",
  "soak",
  "crash-to-lost",
  "cli-startup",
  "cli-fanout",
  "watch",
  "backends",
  "scale-out",
] as const;
type Benchmark = (typeof BENCHMARKS)[number];
const RESULTS = join(ROOT, "bench/RESULTS.md");

/** A mistake in how the benchmarks were asked for. */
class UsageError extends Error {}

function chosen(argv: readonly string[]): Set<Benchmark> {
  const unknown = argv.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new UsageError(
      `no benchmark named ${unknown.join(", ")}: run one of ${BENCHMARKS.join(", ")}, or all`,
    );
  return new Set((argv.length ? argv : BENCHMARKS) as Benchmark[]);
}

async function main(argv: readonly string[]): Promise<void> {
  const only = chosen(argv);
  const all = only.size === BENCHMARKS.length;
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

    // A fresh supervisor of its own, so that its baseline memory is that of a new supervisor.
    let idleSection: Section | undefined;
    if (only.has("idle-memory")) {
      const idle = await opened("idle");
      idleSection = await idleMemory(idle);
      await close(idle);
    }

    const shared = [
      "spawn-to-result",
      "fanout",
      "wait-latency",
      "context-economy",
      "cli-startup",
      "cli-fanout",
      "watch",
    ] as const;
    if (shared.some((name) => only.has(name))) {
      const ws = await opened("main");
      if (only.has("spawn-to-result")) sections.push(await spawnToResult(ws));
      if (only.has("fanout"))
        sections.push(
          await fanout(ws, [
            [1, 7],
            [8, 9],
            [32, 15],
          ]),
        );
      if (idleSection) sections.push(idleSection);
      if (only.has("wait-latency")) sections.push(await waitLatency(ws));
      if (only.has("watch")) sections.push(await watchCost(ws));
      if (only.has("context-economy")) sections.push(await contextEconomy(ws));
      if (only.has("cli-startup")) sections.push(await cliStartup(ws, root));
      if (only.has("cli-fanout"))
        sections.push(
          await cliFanout(ws, [
            [1, 5],
            [8, 11],
            [32, 2],
          ]),
        );
      await close(ws);
    } else if (idleSection) sections.push(idleSection);

    // Its own workspace too: the soak's start figure is a fresh supervisor's memory.
    if (only.has("soak")) {
      const ws = await opened("soak");
      const count = Number(process.env.BENCH_SOAK_COUNT) || undefined; // smaller, for trying it out
      const seed = Number(process.env.BENCH_SOAK_SEED) || undefined; // to choose the same victims again
      sections.push(await soak(ws, { ...(count ? { count } : {}), ...(seed ? { seed } : {}) }));
      await close(ws);
    }

    // Workspaces of its own, a fresh one for every round: each round kills its supervisor.
    if (only.has("crash-to-lost")) {
      const workers = Number(process.env.BENCH_CRASH_WORKERS) || undefined; // smaller, for trying it out
      const rounds = Number(process.env.BENCH_CRASH_ROUNDS) || undefined;
      sections.push(
        await crashToLost(root, { ...(workers ? { workers } : {}), ...(rounds ? { rounds } : {}) }),
      );
    }

    // Its own workspace: its client adds the Claude Code and Gemini CLI servers to the workers' environment.
    if (only.has("backends")) {
      const ws = await opened("backends");
      sections.push(await backends(ws, root, model));
      await close(ws);
    }

    // Workspaces of its own, a Redis and hosts (needs redis-server, as the scale-out tests do).
    if (only.has("scale-out")) {
      const workers = Number(process.env.BENCH_SCALE_WORKERS) || SCALE_OUT_PLAN.workers; // smaller, for trying it out
      sections.push(await scaleOut(root, { ...SCALE_OUT_PLAN, workers }));
    }

    // A partial run says, in each section it rewrites, when and under what load it was measured:
    // the report's header describes the last full run.
    const stamp = `Measured ${startedAt.toISOString()} by \`npm run bench -- ${[...only].join(" ")}\`; load average (1 min) at start ${loadAtStart.toFixed(1)}, at end ${loadavg()[0]!.toFixed(1)}.`;
    writeFileSync(
      RESULTS,
      all
        ? render(sections, info, startedAt, loadAtStart)
        : splice(
            readFileSync(RESULTS, "utf8"),
            sections.map((section) => ({ ...section, notes: [...section.notes, stamp] })),
          ),
    );
    log(`wrote bench/RESULTS.md in ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`);
  } finally {
    for (const ws of [...open]) await closeWorkspace(ws).catch((e: Error) => log(`cleanup: ${e.message}`));
    await model.close();
    rmSync(root, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    log(error.message); // a wrong name on the command line: one line, no stack
    process.exitCode = 2;
    return;
  }
  log(`failed: ${(error as Error)?.stack ?? String(error)}`);
  process.exitCode = 1;
});
