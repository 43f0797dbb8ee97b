import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { Baton, type WorkerInfo } from "../dist/index.js";
import { modelScriptLine, shell } from "../dist/scripted-model/index.js";
import {
  alive,
  CLI,
  closeWorkspace,
  expect,
  expectedAnswer,
  log,
  median,
  ms,
  now,
  openWorkspace,
  ratio,
  type Section,
  sleep,
  supervisorPidOf,
  verdict,
  type Workspace,
} from "./common.ts";
import { workerProcessesOf } from "./idle-memory.ts";

// (g) Issue #4: "When the supervisor is killed with SIGKILL while workers run: within 2 s, `baton ls`
// shows the affected workers as `lost`." Timed here, from the kill to the exit of the first `ls` after it.

/** What one run does. */
export interface CrashOptions {
  /** Workers running when the supervisor is killed. @default 8 */
  readonly workers?: number;
  /** Rounds, each in a fresh workspace. @default 5 */
  readonly rounds?: number;
}

const TARGET_MS = 2000;
const RUNNING_TIMEOUT_MS = 180_000;
/**
 * Turns of `sleep 600`: codex hands a long command back to the model after its yield time (10 s), and
 * each turn starts another, so a worker stays busy for minutes whatever the machine's load.
 */
const BUSY_TURNS = 30;

/** A `baton ls --json` process, as a user would run it; `from` is when the clock started. */
async function ls(ws: Workspace, from: number) {
  const child = spawn(process.execPath, [CLI, "ls", "--json"], {
    cwd: ws.dir,
    env: ws.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  // 'close' (all output read) may come in the same tick as 'exit', so both are listened for at once.
  const closed = new Promise((resolve) => child.once("close", resolve));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  const ms = now() - from;
  await closed;
  let workers: WorkerInfo[] = [];
  try {
    workers = (JSON.parse(out) as { workers: WorkerInfo[] }).workers;
  } catch {
    log(`(g) \`baton ls --json\` exited ${code} without a listing: ${err.trim() || out.trim()}`);
  }
  return { ms, workers };
}

/** When the supervisor now serving `ws` logged that it was ready, in epoch milliseconds. */
function readyAt(ws: Workspace, pid: number): number {
  const lines = readFileSync(join(ws.home, "supervisor.log"), "utf8").split("\n");
  const line = lines.findLast((l) => l.endsWith(` ready, pid ${pid}`));
  return line ? Date.parse(line.slice(0, line.indexOf(" "))) : Number.NaN;
}

/** `ws` with a client of whichever supervisor serves it now (an `ls` may have started a new one). */
async function served(ws: Workspace): Promise<Workspace | undefined> {
  ws.baton.close();
  try {
    const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env, autoStart: false });
    return { ...ws, baton, supervisorPid: supervisorPidOf(ws.home) };
  } catch {
    return undefined;
  }
}

/** Shuts down whatever supervisor serves `ws` and kills anything of its workers still alive (see closeWorkspace). */
async function dispose(ws: Workspace): Promise<void> {
  const current = await served(ws);
  if (current) await closeWorkspace(current);
  for (const pid of workerProcessesOf(ws.home)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
}

/** Stops the supervisor gracefully, so that the next `ls` has to start one. */
async function stopSupervisor(ws: Workspace): Promise<void> {
  await ws.baton.shutdown(AbortSignal.timeout(30_000));
  ws.baton.close();
  for (let i = 0; i < 100 && alive(ws.supervisorPid); i++) await sleep(50);
  expect(!alive(ws.supervisorPid), `the supervisor of ${ws.home} did not shut down`);
}

/** How many live processes carry each of this workspace's worker markers: one pass over /proc. */
function processesByWorker(ws: Workspace): Map<string, number> {
  const counts = new Map<string, number>();
  for (const pid of workerProcessesOf(ws.home)) {
    try {
      const marker = readFileSync(`/proc/${pid}/environ`, "latin1")
        .split("\0")
        .find((entry) => entry.startsWith("BATON_WORKER_ID="));
      const id = marker?.slice("BATON_WORKER_ID=".length);
      if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    } catch {}
  }
  return counts;
}

interface Round {
  readonly baselineMs: number;
  /** The baseline's start to its new supervisor's "ready" log line (1 ms resolution). */
  readonly baselineReadyMs: number;
  readonly crashMs: number;
  /** Kill to the new supervisor's "ready" log line (1 ms resolution). */
  readonly readyMs: number;
  readonly lost: number;
  readonly left: number;
  /** Spawn to all workers running their `sleep` with a thread recorded (not timed against anything). */
  readonly runningMs: number;
}

/** Workers that keep running; resolves once every one runs its `sleep` and has recorded its thread. */
async function busyWorkers(ws: Workspace, count: number, round: number): Promise<string[]> {
  const steps = Array.from({ length: BUSY_TURNS }, () => shell("sleep 600"));
  const ids = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      ws.baton.spawn({ task: `crash round ${round} #${i}\n${modelScriptLine(steps)}` }),
    ),
  );
  const start = now();
  for (;;) {
    const workers = (await ws.baton.list()).workers.filter((w) => ids.includes(w.id));
    const processes = processesByWorker(ws);
    const ready = workers.filter(
      (w) => w.state === "running" && w.threadId && (processes.get(w.id) ?? 0) > 1,
    );
    if (ready.length === count) return ids;
    expect(
      now() - start < RUNNING_TIMEOUT_MS,
      `only ${ready.length} of ${count} workers were running with a thread after ${RUNNING_TIMEOUT_MS} ms`,
    );
    await sleep(100);
  }
}

/**
 * (g) The supervisor killed with SIGKILL while `workers` codex workers run, to the exit of the first
 * `baton ls --json` after it, which must show every one `lost` with no process of theirs left. Baseline:
 * a cold `baton ls --json` that starts a supervisor for the same number of finished workers.
 */
export async function crashToLost(root: string, options: CrashOptions = {}): Promise<Section> {
  const count = options.workers ?? 8;
  const rounds = options.rounds ?? 5;
  const startedAt = new Date();
  const loadAtStart = loadavg()[0]!;
  const open = new Set<Workspace>();
  const rows: Round[] = [];
  try {
    // The baseline's workspace: `count` workers that finished, and no supervisor when `ls` runs.
    let base = await openWorkspace(root, "crash-baseline");
    open.add(base);
    await base.baton.configure(count);
    const tasks = Array.from({ length: count }, (_, i) => `crash baseline #${i}`);
    const baseIds = await Promise.all(tasks.map((task) => base.baton.spawn({ task })));
    await base.baton.wait(baseIds);
    for (const [i, id] of baseIds.entries()) {
      const result = await base.baton.result(id);
      expect(result.answer === expectedAnswer(tasks[i]!), `baseline worker ${id}: ${result.state}`);
    }
    const coldLs = async () => {
      await stopSupervisor(base);
      const start = now();
      const listed = await ls(base, start);
      const next = await served(base);
      expect(next, "the baseline's `ls` left no supervisor running");
      open.delete(base);
      base = next;
      open.add(base);
      const finished = listed.workers.filter((w) => baseIds.includes(w.id) && w.state === "succeeded");
      expect(finished.length === count, `the cold \`ls\` showed ${finished.length} of ${count} finished`);
      return { ms: listed.ms, readyMs: readyAt(base, base.supervisorPid) - start };
    };
    await coldLs(); // warm-up: the first load of the CLI's modules from disk

    for (let round = 1; round <= rounds; round++) {
      const { ms: baselineMs, readyMs: baselineReadyMs } = await coldLs();

      const ws = await openWorkspace(root, `crash-${round}`);
      open.add(ws);
      await ws.baton.configure(count);
      const spawnedAt = now();
      const ids = await busyWorkers(ws, count, round);
      const runningMs = now() - spawnedAt;

      const killed = ws.supervisorPid;
      process.kill(killed, "SIGKILL");
      const killedAt = now();
      const listed = await ls(ws, killedAt);
      const left = workerProcessesOf(ws.home).length;
      const lost = listed.workers.filter((w) => ids.includes(w.id) && w.state === "lost").length;
      const pid = supervisorPidOf(ws.home);
      expect(pid !== killed, "the killed supervisor was not replaced");
      const readyMs = readyAt(ws, pid) - killedAt;
      rows.push({ baselineMs, baselineReadyMs, crashMs: listed.ms, readyMs, lost, left, runningMs });
      log(
        `(g) round ${round}: cold ls ${ms(baselineMs)} (supervisor ready after ${ms(baselineReadyMs)}); kill to ls exit ${ms(listed.ms)} ` +
          `(new supervisor ready after ${ms(readyMs)}); ${lost}/${count} lost, ${left} processes left`,
      );
      open.delete(ws);
      await dispose(ws);
    }
  } finally {
    for (const ws of open) await dispose(ws).catch((e: Error) => log(`(g) cleanup: ${e.message}`));
  }

  const crash = median(rows.map((r) => r.crashMs));
  const baseline = median(rows.map((r) => r.baselineMs));
  const ready = median(rows.map((r) => r.readyMs));
  const baselineReady = median(rows.map((r) => r.baselineReadyMs));
  const lost = rows.reduce((n, r) => n + r.lost, 0);
  const left = rows.reduce((n, r) => n + r.left, 0);
  const all = count * rounds;
  const pass = crash < TARGET_MS;
  return {
    title: `(g) Supervisor killed with SIGKILL under ${count} running workers: kill to \`lost\` in \`baton ls\``,
    about: [
      "Reproduce this section alone with `npm run bench -- crash-to-lost` (it rewrites only this section " +
        "and its rows in the targets table). " +
        `Each round has a fresh workspace (its own \`BATON_HOME\`) whose supervisor, with max parallel ${count}, ` +
        `gets ${count} \`baton.spawn()\` calls, each a real codex worker that the scripted model keeps in ` +
        `\`sleep 600\` (${BUSY_TURNS} turns of it, as codex hands a long command back to the model after 10 s). ` +
        "Once `list()` shows every one running with its codex thread recorded and its `sleep` alive (a " +
        "second process carrying the worker's marker), the supervisor is killed with SIGKILL and a " +
        "`node dist/cli/main.js ls --json` process is started at once, as a user would run it; the time " +
        "is from the kill to that process's exit. That first listing must show every worker `lost`, with " +
        "no retrying, and once it has exited no process carrying a worker's marker may be alive.",
      `Baseline, in the same rounds: a workspace with ${count} codex workers that finished (\`succeeded\`, ` +
        "answers checked) has its supervisor shut down, then the same `baton ls --json` process is " +
        "timed from its start to its exit: it too finds no supervisor, starts one that loads the store, " +
        "and lists. So the ratio is what recovering from the crash (marking the workers lost, killing " +
        "what they left) costs over an ordinary cold start. One untimed cold `ls` first, as a warm-up.",
    ],
    columns: [
      "round",
      "cold `ls`, finished workers (baseline)",
      "its start to supervisor ready",
      "kill to first `ls` exit",
      "kill to new supervisor ready",
      "ratio",
      "lost in that `ls`",
      "processes left",
    ],
    rows: [
      ...rows.map((r, i) => [
        String(i + 1),
        ms(r.baselineMs),
        ms(r.baselineReadyMs),
        ms(r.crashMs),
        ms(r.readyMs),
        ratio(r.crashMs / r.baselineMs),
        `${r.lost}/${count}`,
        String(r.left),
      ]),
      [
        "median",
        ms(baseline),
        ms(baselineReady),
        ms(crash),
        ms(ready),
        `${ratio(crash / baseline)} (of the medians)`,
        `${lost}/${all} in all`,
        `${left} in all`,
      ],
    ],
    targets: [
      {
        name: "(g) crash-to-lost: kill to the first `ls` showing lost, median",
        figure: `${ms(crash)} (${ratio(crash / baseline)} a cold \`ls\`)`,
        target: `< ${TARGET_MS} ms`,
        pass,
      },
      {
        name: "(g) crash-to-lost: workers shown lost by that first `ls`",
        figure: `${lost}/${all}`,
        target: `${all}/${all}`,
        pass: lost === all,
      },
      {
        name: "(g) crash-to-lost: worker processes alive after it",
        figure: String(left),
        target: "0",
        pass: left === 0,
      },
    ],
    notes: [
      `Median kill to first \`ls\` exit ${ms(crash)} against the target of < ${TARGET_MS} ms ` +
        `(${verdict(pass)}), ${ratio(crash / baseline)} the cold \`ls\` of the baseline (${ms(baseline)}). ` +
        "The supervisor's ready time is read from its log line (1 ms resolution): until then both paths " +
        "start the CLI, find no supervisor and start one, which loads the store (and, after the crash, " +
        "marks the workers lost and kills what they left); after it comes the CLI's connection, the " +
        "listing and the CLI's exit. " +
        `Medians: ${ms(baselineReady)} to ready and ${ms(baseline - baselineReady)} after it in the ` +
        `baseline, ${ms(ready)} and ${ms(crash - ready)} after the crash.`,
      `Spawn to all ${count} workers running with their threads recorded (not timed against anything): ` +
        `${rows.map((r) => `${(r.runningMs / 1000).toFixed(1)} s`).join(", ")}.`,
      `Run at ${startedAt.toISOString()}; load average (1 min) ${loadAtStart.toFixed(1)} at its start and ` +
        `${loadavg()[0]!.toFixed(1)} at its end (${availableParallelism()} cores, shared with other work: both the baseline and ` +
        "Baton pay for it).",
    ],
  };
}
