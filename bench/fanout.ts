import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { workerPrompt } from "../dist/index.js";
import {
  CODEX_BIN,
  cpuSeconds,
  expect,
  expectedAnswer,
  Leftovers,
  lastAgentMessage,
  log,
  machineCpuSeconds,
  median,
  ms,
  now,
  ROOT,
  ratio,
  type Section,
  type Target,
  verdict,
  type Workspace,
} from "./common.ts";
import { sandboxCost } from "./sandbox-cost.ts";

const TARGET = 1.1;
/** Issue #10: N = 32 within this of the bare runs. */
const ISSUE_10_TARGET = 1.05;
/** Issue #10: at most this much of the supervisor's CPU a worker, N = 32. */
const CPU_TARGET_MS = 10;

/** Each prompt file's run: codex with Baton's flags, prompt from the file, JSON stream to FILE.jsonl. */
const PER_FILE =
  'exec "$BENCH_CODEX" exec --json --skip-git-repo-check -C "$BENCH_CWD" --sandbox read-only ' +
  '-c agents.enabled=false -o "$1.last" - < "$1" > "$1.jsonl" 2>/dev/null';

/**
 * Runs `tasks` as bare codex runs with Baton's flags, `parallel` at a time under `xargs -P`, checks every
 * answer, and returns the wall time in ms.
 */
export async function bareRuns(
  ws: Workspace,
  tasks: readonly string[],
  tag: string,
  parallel = tasks.length,
): Promise<number> {
  const dir = join(ws.dir, "fanout", tag);
  mkdirSync(dir, { recursive: true });
  const files = tasks.map((task, i) => {
    const file = join(dir, `prompt-${i}.txt`);
    writeFileSync(file, workerPrompt(task, { kind: "read-only" }));
    return file;
  });
  const start = now();
  const args = ["-0", "-n", "1", "-P", String(parallel), "setsid", "-w", "sh", "-c", PER_FILE, "sh"];
  const xargs = spawn("xargs", args, {
    cwd: ws.dir,
    env: { ...ws.env, BENCH_CODEX: CODEX_BIN, BENCH_CWD: ws.dir },
    stdio: ["pipe", "ignore", "inherit"],
  });
  xargs.stdin.end(files.map((f) => `${f}\0`).join(""));
  const code = await new Promise<number | null>((resolve, reject) => {
    xargs.once("error", reject);
    xargs.once("exit", resolve);
  });
  const elapsed = now() - start;
  expect(code === 0, `xargs exited ${code}`);
  tasks.forEach((task, i) => {
    const answer = lastAgentMessage(readFileSync(`${files[i]}.jsonl`, "utf8"));
    expect(answer === expectedAnswer(task), `bare run ${i} of ${tag}: answer ${answer}`);
  });
  return elapsed;
}

async function library(
  ws: Workspace,
  tasks: readonly string[],
): Promise<{ ms: number; cpu: number; machine: number }> {
  const cpu = cpuSeconds(ws.supervisorPid);
  const machine = machineCpuSeconds();
  const start = now();
  const ids = await Promise.all(tasks.map((task) => ws.baton.spawn({ task })));
  const waited = await ws.baton.wait(ids);
  const elapsed = now() - start;
  const machineCpu = machineCpuSeconds() - machine;
  const supervisorCpu = cpuSeconds(ws.supervisorPid) - cpu;
  expect(!waited.timedOut, "wait timed out");
  const results = await Promise.all(ids.map((id) => ws.baton.result(id)));
  results.forEach((result, i) => {
    const ok = result.state === "succeeded" && result.answer === expectedAnswer(tasks[i]!);
    expect(ok, `baton ${result.id}: ${result.state}, answer ${result.answer}`);
  });
  return { ms: elapsed, cpu: supervisorCpu, machine: machineCpu };
}

/** Rounds of the supervisor's baseline (bench/terminal-floor.ts), after one to warm up. */
const FLOOR_ROUNDS = 5;

/**
 * The supervisor's CPU baseline: bench/terminal-floor.ts run as a process of its own with the
 * workspace's environment (its model, its CODEX_HOME); its CPU a worker, median of its rounds, in ms.
 */
async function terminalFloor(ws: Workspace, n: number, rounds: number): Promise<number> {
  const script = join(ROOT, "bench/terminal-floor.ts");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", script, String(n), String(rounds), join(ws.dir, "floor")],
    { cwd: ROOT, env: ws.env, stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    out += text;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  expect(code === 0, `terminal-floor exited ${code}`);
  const { perWorker } = JSON.parse(out) as { perWorker: number[] };
  log(`(b) floor: ${perWorker.map((v) => v.toFixed(1)).join(", ")} ms a worker`);
  return median(perWorker);
}

/** (b) N workers at once through Baton vs N bare codex runs under `xargs -P N`, interleaved. */
export async function fanout(ws: Workspace, plan: readonly [n: number, reps: number][]): Promise<Section> {
  await ws.baton.configure(64);
  const rows: string[][] = [];
  const targets: Target[] = [];
  const left = { bare: new Leftovers(), baton: new Leftovers() };
  const cpuNotes: string[] = [];
  const machineNotes: string[] = [];
  /** The largest N's machine CPU a worker, bare and Baton, and the supervisor's, in ms. */
  let split = { n: 0, bare: 0, baton: 0, supervisor: 0 };
  for (const [n, reps] of plan) {
    const bares: number[] = [];
    const libs: number[] = [];
    const cpus: number[] = [];
    const machine = { bare: [] as number[], baton: [] as number[] };
    for (let rep = 1; rep <= reps; rep++) {
      const tasks = (kind: string) =>
        Array.from({ length: n }, (_, i) => `fanout ${kind} n${n} rep${rep} #${i}`);
      const before = machineCpuSeconds();
      bares.push(await bareRuns(ws, tasks("bare"), `n${n}-rep${rep}`));
      machine.bare.push(machineCpuSeconds() - before);
      await left.bare.settle(ws);
      const lib = await library(ws, tasks("library"));
      libs.push(lib.ms);
      cpus.push(lib.cpu);
      machine.baton.push(lib.machine);
      await left.baton.settle(ws);
      log(`(b) N=${n} rep ${rep}/${reps}: bare ${ms(bares.at(-1)!)}, baton ${ms(libs.at(-1)!)}`);
    }
    const r = median(libs) / median(bares);
    const perWorker = (seconds: number[]) => `${((median(seconds) * 1000) / n).toFixed(0)} ms`;
    machineNotes.push(`N=${n}: bare ${perWorker(machine.bare)}, Baton ${perWorker(machine.baton)}`);
    cpuNotes.push(
      `N=${n}: ${(median(cpus) * 1000).toFixed(0)} ms (${((median(cpus) * 1000) / n).toFixed(1)} ms a worker)`,
    );
    rows.push([
      String(n),
      `${ms(median(bares))} (${bares.map((v) => v.toFixed(0)).join(", ")})`,
      `${ms(median(libs))} (${libs.map((v) => v.toFixed(0)).join(", ")})`,
      ratio(r),
      `≤ ${TARGET.toFixed(2)}x`,
      verdict(r <= TARGET),
    ]);
    targets.push({
      name: `(b) N=${n} wall time vs xargs -P`,
      figure: ratio(r),
      target: `≤ ${TARGET.toFixed(2)}x`,
      pass: r <= TARGET,
    });
    const cpuPerWorker = (median(cpus) * 1000) / n;
    const perWorkerMs = (seconds: number[]) => (median(seconds) * 1000) / n;
    split = {
      n,
      bare: perWorkerMs(machine.bare),
      baton: perWorkerMs(machine.baton),
      supervisor: cpuPerWorker,
    };
    if (n === 32)
      targets.push(
        {
          name: "(b) N=32 wall time vs xargs -P, issue #10",
          figure: ratio(r),
          target: `≤ ${ISSUE_10_TARGET.toFixed(2)}x`,
          pass: r <= ISSUE_10_TARGET,
        },
        {
          name: "(b) N=32 supervisor CPU a worker, issue #10",
          figure: ms(cpuPerWorker, 1), // and against its floor, measured below, in the notes
          target: `≤ ${CPU_TARGET_MS} ms`,
          pass: cpuPerWorker <= CPU_TARGET_MS,
        },
      );
  }
  const sandbox = await sandboxCost(ws);
  const floor = await terminalFloor(ws, split.n, FLOOR_ROUNDS);
  const extra = split.baton - split.bare;
  const known = split.supervisor + sandbox.machineMs;
  return {
    title: "(b) N workers at once: wall time",
    about: [
      "Baseline: N bare `codex exec` runs with Baton's flags, started by " +
        "`xargs -0 -n 1 -P N setsid -w sh -c '... - < \"$1\"'` over N prompt files (worker preamble included), " +
        "timed from starting xargs to its exit. `setsid` gives each run its own session, as Baton's PTY does: " +
        "the kernel's autogroup scheduling gives every session its own CPU share, and without it the N bare " +
        "runs share one and lose to any other load on the machine. Baton: N " +
        "`baton.spawn()` calls issued at once on an open Baton (max parallel 64), then `baton.wait(ids)`. " +
        "Every answer is checked afterwards, outside the timing. Runs alternate bare, Baton; medians " +
        "(individual runs in parentheses).",
    ],
    columns: ["N", "bare xargs -P N (baseline)", "Baton", "ratio", "target", "result"],
    rows,
    targets,
    notes: [
      `CPU time the supervisor used during one Baton run (median): ${cpuNotes.join("; ")}.`,
      `Its baseline, N=${split.n}: the least a Node process spends to run a codex worker in a terminal, ` +
        `measured in this run (bench/terminal-floor.ts: ${split.n} codex runs at once, each in a terminal ` +
        "this process opened and Baton's spawner started, its prompt through Baton's launcher, every byte " +
        "of output read and every exit waited for; nothing else): " +
        `${ms(floor, 1)} a worker (median of ${FLOOR_ROUNDS} rounds after a warm-up). The supervisor's ` +
        `${ms(split.supervisor, 1)} is ${ratio(split.supervisor / floor)} of it.`,
      "CPU time the whole machine used a worker (median of the runs; it includes whatever else ran " +
        `meanwhile): ${machineNotes.join("; ")}. On 2 cores that every run keeps busy, this difference, ` +
        "not the supervisor's reply times, is what the wall-time ratio shows.",
      `What a worker costs the machine beyond a bare run, N=${split.n}: the supervisor's own ` +
        `${ms(split.supervisor, 1)} (above) and the sandbox every worker runs in ${ms(sandbox.machineMs, 1)} ` +
        `(${ms(sandbox.wallMs, 1)} of wall time), ${ms(known, 1)} together: ` +
        `${((known / split.bare) * 100).toFixed(1)}% of a bare run's ${ms(split.bare, 1)}. Measured over whole ` +
        `runs, with everything else the machine did meanwhile, Baton's median was ${ms(extra, 1)} above the ` +
        `bare one (${ms(split.baton, 1)} against ${ms(split.bare, 1)}). The sandbox's figure: the launch ` +
        "chain of a live worker of this run (the store's baton-launch, bubblewrap with that worker's " +
        "arguments, baton-launch inside it) with /bin/true in place of the agent, run " +
        `${sandbox.runs} times one after another against /bin/true started the same way, in alternating ` +
        "blocks: the machine's CPU over the blocks, the median run's wall time.",
      `Leftovers: ${left.bare.describe("bare")}; ${left.baton.describe("Baton")}.`,
    ],
  };
}
