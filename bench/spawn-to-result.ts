import { readFileSync } from "node:fs";
import { join } from "node:path";
import { workerPrompt } from "../dist/index.js";
import {
  expect,
  expectedAnswer,
  Leftovers,
  log,
  median,
  ms,
  now,
  ratio,
  runBareCodex,
  runCli,
  type Section,
  verdict,
  type Workspace,
} from "./common.ts";

const TARGET = 1.1;
/** What Baton's own sandbox (bubblewrap) may add to a one-worker run. */
const CONFINEMENT_TARGET = 1.05;

interface LibraryRun {
  readonly total: number;
  /** Where the time went: request to PTY start, agent in the PTY, end to wait reply, result, spawn reply. */
  readonly phases: readonly number[];
}

async function bare(ws: Workspace, task: string): Promise<number> {
  const run = await runBareCodex(
    ws,
    workerPrompt(task, { kind: "read-only" }),
    join(ws.dir, "bare-last.txt"),
  );
  expect(
    run.code === 0 && run.answer === expectedAnswer(task),
    `bare codex: exit ${run.code}, answer ${run.answer}`,
  );
  return run.ms;
}

async function library(ws: Workspace, task: string, unconfined = false): Promise<LibraryRun> {
  const t0 = now();
  const id = await ws.baton.spawn({ task, ...(unconfined ? { unconfined: true } : {}) });
  const t1 = now();
  await ws.baton.wait([id]);
  const t2 = now();
  const result = await ws.baton.result(id);
  const t3 = now();
  expect(
    result.state === "succeeded" && result.answer === expectedAnswer(task),
    `baton ${id}: ${result.state}`,
  );
  const status = JSON.parse(readFileSync(join(ws.home, "workers", id, "status.json"), "utf8")) as {
    startedAt: string;
  };
  const started = Date.parse(status.startedAt);
  const ended = Date.parse(result.endedAt);
  return {
    total: t3 - t0,
    phases: [started - t0, result.durationMs, t2 - ended, t3 - t2, t1 - t0],
  };
}

async function cli(ws: Workspace, task: string): Promise<number> {
  const t0 = now();
  const { id } = JSON.parse(await runCli(ws, ["spawn", "--json", task])) as { id: string };
  await runCli(ws, ["wait", id]);
  const answer = (await runCli(ws, ["result", id])).trim();
  const t1 = now();
  expect(answer === expectedAnswer(task), `baton CLI ${id}: answer ${answer}`);
  return t1 - t0;
}

/** (a) One worker, spawn to result, interleaved with bare codex runs. Rep 0 is the warm-up. */
export async function spawnToResult(ws: Workspace, reps = 11): Promise<Section> {
  const bares: number[] = [];
  const libs: LibraryRun[] = [];
  const opens: number[] = [];
  const clis: number[] = [];
  const left = { bare: new Leftovers(), baton: new Leftovers() };
  for (let rep = 0; rep <= reps; rep++) {
    const b = await bare(ws, `spawn-to-result bare ${rep}`);
    await left.bare.settle(ws);
    const l = await library(ws, `spawn-to-result library ${rep}`);
    await left.baton.settle(ws);
    const u = await library(ws, `spawn-to-result unconfined ${rep}`, true);
    await left.baton.settle(ws);
    const c = await cli(ws, `spawn-to-result cli ${rep}`);
    await left.baton.settle(ws);
    log(
      `(a) ${rep === 0 ? "warm-up" : `rep ${rep}/${reps}`}: bare ${ms(b)}, library ${ms(l.total)}, unconfined ${ms(u.total)}, CLI ${ms(c)}`,
    );
    if (rep === 0) continue;
    bares.push(b);
    libs.push(l);
    opens.push(u.total);
    clis.push(c);
  }
  const bareMs = median(bares);
  const libMs = median(libs.map((l) => l.total));
  const openMs = median(opens);
  const confinement = libMs / openMs;
  const cliMs = median(clis);
  const phase = (i: number) => ms(median(libs.map((l) => l.phases[i]!)), 1);
  return {
    title: "(a) One worker: spawn to result",
    about: [
      `Bare: the native codex binary started with child_process (in a session of its own, like a Baton worker), ` +
        `the same flags Baton uses and the same prompt ` +
        `(worker preamble included) on stdin; timed from spawn to exit with its last \`agent_message\` read from ` +
        `the JSON stdout. Library: \`baton.spawn()\` → \`baton.wait([id])\` → \`baton.result(id)\` on an ` +
        `already-open Baton (supervisor warm), the worker confined by Baton's sandbox (bubblewrap) as every ` +
        `worker is by default; the same with \`unconfined: true\` (the agent's own sandbox only) shows what the ` +
        `confinement costs. CLI: \`baton spawn\`, \`baton wait\`, \`baton result\` as three ` +
        `Node processes. One warm-up each, then ${reps} runs interleaved (bare, library, unconfined, CLI, ...); medians.`,
    ],
    columns: ["path", "median", "runs (ms)", "ratio vs bare", "target", "result"],
    rows: [
      [
        "bare `codex exec` (baseline)",
        ms(bareMs),
        bares.map((v) => v.toFixed(0)).join(", "),
        "1.00x",
        "",
        "",
      ],
      [
        "Baton library",
        ms(libMs),
        libs.map((l) => l.total.toFixed(0)).join(", "),
        ratio(libMs / bareMs),
        `≤ ${TARGET.toFixed(2)}x`,
        verdict(libMs / bareMs <= TARGET),
      ],
      [
        "Baton library, unconfined (the confinement's baseline)",
        ms(openMs),
        opens.map((v) => v.toFixed(0)).join(", "),
        ratio(openMs / bareMs),
        "",
        "",
      ],
      [
        "confinement's cost: library confined vs unconfined",
        `${(libMs - openMs).toFixed(0)} ms`,
        "",
        ratio(confinement),
        `≤ ${CONFINEMENT_TARGET.toFixed(2)}x`,
        verdict(confinement <= CONFINEMENT_TARGET),
      ],
      [
        "Baton CLI, 3 processes (informative)",
        ms(cliMs),
        clis.map((v) => v.toFixed(0)).join(", "),
        ratio(cliMs / bareMs),
        "",
        "",
      ],
    ],
    targets: [
      {
        name: "(a) spawn-to-result, library vs bare",
        figure: ratio(libMs / bareMs),
        target: `≤ ${TARGET.toFixed(2)}x`,
        pass: libMs / bareMs <= TARGET,
      },
      {
        name: "(a) confinement: one worker confined vs unconfined",
        figure: ratio(confinement),
        target: `≤ ${CONFINEMENT_TARGET.toFixed(2)}x`,
        pass: confinement <= CONFINEMENT_TARGET,
      },
    ],
    notes: [
      `Where the library's time goes (medians; store timestamps have 1 ms resolution): spawn request to PTY ` +
        `start ${phase(0)} (the spawn reply itself took ${phase(4)}); agent in its PTY until its end was ` +
        `processed ${phase(1)}; end to \`wait\` reply ${phase(2)}; \`result\` request ${phase(3)}.`,
      `Leftovers: ${left.bare.describe("bare")}; ${left.baton.describe("Baton")}.`,
    ],
  };
}
