import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  expect,
  log,
  median,
  ms,
  now,
  percentile,
  ratio,
  type Section,
  STAMP_AGENT,
  verdict,
  type Workspace,
} from "./common.ts";

const TARGET_MS = 20;

/** The fixture's exit instant, in epoch milliseconds (it writes nanoseconds). */
const stampOf = (file: string) => Number(BigInt(readFileSync(file, "utf8").trim()) / 1000n) / 1000;

/** The fixture under child_process: its exit instant to the 'exit' event. */
async function bare(ws: Workspace, file: string): Promise<number> {
  const child = spawn(STAMP_AGENT, [], {
    env: { ...ws.env, BENCH_STAMP_FILE: file },
    stdio: ["pipe", "ignore", "ignore"],
  });
  child.stdin.end("prompt\n");
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  const at = now();
  expect(code === 0, `bare fixture exited ${code}`);
  return at - stampOf(file);
}

interface Latency {
  readonly total: number;
  /** Exit to the supervisor's result (its `endedAt`, 1 ms resolution), and from there to `wait` returning. */
  readonly toEnded: number;
  readonly toWait: number;
}

/** The fixture as a Baton worker: its exit instant to `baton.wait()` returning. */
async function library(ws: Workspace, task: string): Promise<Latency> {
  // The fixture writes its stamp outside the workspace: that folder is its scope (Baton confines it).
  const id = await ws.baton.spawn({ task, bin: STAMP_AGENT, write: [ws.env.BENCH_STAMP_DIR!] });
  await ws.baton.wait([id]);
  const at = now();
  const result = await ws.baton.result(id);
  expect(result.state === "succeeded", `fixture worker ${id}: ${result.state}`);
  const exited = stampOf(join(ws.env.BENCH_STAMP_DIR!, `${id}.stamp`));
  const ended = Date.parse(result.endedAt);
  return { total: at - exited, toEnded: ended - exited, toWait: at - ended };
}

/** (d) Worker exit to `wait` returning, against the same fixture's exit to child_process's 'exit' event. */
export async function waitLatency(ws: Workspace, samples = 50): Promise<Section> {
  const bares: number[] = [];
  const libs: Latency[] = [];
  for (let i = 0; i <= samples; i++) {
    const b = await bare(ws, join(ws.env.BENCH_STAMP_DIR!, `bare-${i}.stamp`));
    const l = await library(ws, `wait latency ${i}`);
    if (i === 0) continue; // warm-up
    bares.push(b);
    libs.push(l);
    if (i % 10 === 0) log(`(d) ${i}/${samples}: bare ${ms(b, 2)}, baton ${ms(l.total, 2)}`);
  }
  const totals = libs.map((l) => l.total);
  const bareMedian = median(bares);
  const libMedian = median(totals);
  const pass = libMedian < TARGET_MS;
  return {
    title: "(d) Worker exit to `wait` returning",
    about: [
      "A fixture agent (`bench/fixtures/exit-stamp.sh`) reads its prompt to EOF, sleeps 200 ms, writes " +
        "`date +%s%N` to a file and exits right after. Baton: `baton.spawn({bin: fixture})` then " +
        "`baton.wait([id])`; latency = the instant `wait` returns (`performance.timeOrigin + " +
        "performance.now()`) minus the stamp. Baseline: the same fixture started with child_process; latency " +
        "= the 'exit' event minus the stamp. The fixture is a shell script because a Node one spends ~10 ms " +
        `in its own exit after any stamp it can write. ${samples} samples each, sequential and interleaved, ` +
        "after one warm-up. p99 is nearest-rank, so with 50 samples it is the maximum.",
    ],
    columns: ["path", "median", "p99", "ratio of medians", "target", "result"],
    rows: [
      [
        "child_process 'exit' event (baseline)",
        ms(bareMedian, 2),
        ms(percentile(bares, 99), 2),
        "1.00x",
        "",
        "",
      ],
      [
        "`baton.wait()` returns",
        ms(libMedian, 2),
        ms(percentile(totals, 99), 2),
        ratio(libMedian / bareMedian),
        `median < ${TARGET_MS} ms`,
        verdict(pass),
      ],
    ],
    targets: [
      { name: "(d) exit to wait, median", figure: ms(libMedian, 1), target: `< ${TARGET_MS} ms`, pass },
    ],
    notes: [
      `Baton adds ${ms(libMedian - bareMedian, 1)} to the baseline's median. Split of Baton's latency (medians; the supervisor's \`endedAt\` has 1 ms resolution): exit to the ` +
        `supervisor's result ${ms(median(libs.map((l) => l.toEnded)), 1)}, then to \`wait\` returning ` +
        `${ms(median(libs.map((l) => l.toWait)), 1)}.`,
    ],
  };
}
