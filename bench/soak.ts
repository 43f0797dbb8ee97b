import { existsSync, readFileSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import type { WorkerResult } from "../dist/index.js";
import {
  coolDown,
  cpuSeconds,
  expect,
  expectedAnswer,
  Leftovers,
  log,
  median,
  now,
  RECENTLY_FREED_S,
  ratio,
  type Section,
  sleep,
  type Target,
  type Workspace,
} from "./common.ts";
import { bareRuns } from "./fanout.ts";
import { memoryKb, mib, workerProcessesOf } from "./idle-memory.ts";

/** What one soak run does; the defaults are the figures issue #4 asks for. */
export interface SoakOptions {
  /** @default 500 */
  readonly count?: number;
  /** @default 16 */
  readonly cap?: number;
  /** Share of the workers whose agent is killed with SIGKILL. @default 0.05 */
  readonly killShare?: number;
  /** Seed for choosing the victims and the moments they are killed. @default the clock */
  readonly seed?: number;
}

const KILL_WINDOW_MS = 2000;
const SAMPLE_MS = 500;
const END_TO_MIDDLE_TARGET = 1.1;
/** Issue #10: the soak within 5% of the bare runs. */
const WALL_TARGET = 1.05;

/** A small seeded generator (mulberry32), so that a run's victims can be chosen again. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Kill {
  readonly id: string;
  readonly delayMs: number;
  /** When its status first showed the agent's pid. */
  seenAt?: number;
  outcome?: "killed" | "ended first";
}

/** Reads a worker's status.json the way a person would, to find its agent's pid. */
function statusOf(ws: Workspace, id: string): { state: string; pid?: number } | undefined {
  try {
    return JSON.parse(readFileSync(join(ws.home, "workers", id, "status.json"), "utf8"));
  } catch {
    return undefined;
  }
}

/** True if `pid` is still the agent of worker `id` of this workspace (and not a reused pid). */
function isAgentOf(ws: Workspace, pid: number, id: string): boolean {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
    return env.includes(`BATON_WORKER_ID=${id}`) && env.includes(`BATON_HOME=${ws.home}`);
  } catch {
    return false;
  }
}

/** How often a victim is looked at while queued, and while running before its agent's pid shows. */
const QUEUED_LOOK_MS = 250;
const RUNNING_LOOK_MS = 20;

/**
 * Kills each victim's agent with SIGKILL a random moment after it started. A victim that ends before its
 * moment comes is replaced by a worker still queued, chosen at random, so that the share killed is exact.
 * Resolves once every kill is done. This loop runs beside Baton's workers, not the baseline's, so it
 * reads little: a queued victim's status a few times a second, a starting one's until its pid shows,
 * then nothing until its moment; a replacement is found by trying random workers, not reading them all.
 */
async function killer(
  ws: Workspace,
  kills: Kill[],
  ids: readonly string[],
  rand: () => number,
  done: () => boolean,
): Promise<void> {
  const lookAt = new Map<Kill, number>();
  while (kills.some((k) => !k.outcome) && !done()) {
    for (const kill of [...kills]) {
      if (kill.outcome || (lookAt.get(kill) ?? 0) > now()) continue;
      const status = statusOf(ws, kill.id);
      if (!status) continue;
      if (status.state !== "queued" && status.state !== "running") {
        kill.outcome = "ended first";
        const next = queuedAtRandom(ws, ids, new Set(kills.map((k) => k.id)), rand);
        if (next) kills.push({ id: next, delayMs: rand() * KILL_WINDOW_MS });
        continue;
      }
      if (status.state !== "running" || !status.pid) {
        lookAt.set(kill, now() + (status.state === "queued" ? QUEUED_LOOK_MS : RUNNING_LOOK_MS));
        continue;
      }
      kill.seenAt ??= now();
      if (now() - kill.seenAt < kill.delayMs) {
        lookAt.set(kill, kill.seenAt + kill.delayMs);
        continue;
      }
      if (isAgentOf(ws, status.pid, kill.id)) {
        process.kill(status.pid, "SIGKILL");
        kill.outcome = "killed";
      }
    }
    await sleep(RUNNING_LOOK_MS);
  }
}

/** A worker still queued and not chosen yet, found by trying workers at random (up to 64 of them). */
function queuedAtRandom(
  ws: Workspace,
  ids: readonly string[],
  chosen: ReadonlySet<string>,
  rand: () => number,
): string | undefined {
  for (let tries = 0; tries < 64; tries++) {
    const id = ids[Math.floor(rand() * ids.length)]!;
    if (!chosen.has(id) && statusOf(ws, id)?.state === "queued") return id;
  }
  return undefined;
}

interface Check {
  definite: number;
  byState: Map<string, number>;
  /** Non-victims (and victims whose kill came too late) without their right answer on disk. */
  lost: string[];
  /** Killed workers that did not end failed by signal 9, with their transcript. */
  killedWrong: string[];
  /** Killed workers whose transcript is empty: killed before the agent printed anything. */
  killedSilent: number;
}

function check(ws: Workspace, ids: readonly string[], tasks: readonly string[], killed: Set<string>): Check {
  const out: Check = { definite: 0, byState: new Map(), lost: [], killedWrong: [], killedSilent: 0 };
  ids.forEach((id, i) => {
    let result: WorkerResult | undefined;
    try {
      result = JSON.parse(readFileSync(join(ws.home, "workers", id, "result.json"), "utf8"));
    } catch {}
    const state = result?.state ?? statusOf(ws, id)?.state ?? "unknown";
    out.byState.set(state, (out.byState.get(state) ?? 0) + 1);
    if (!["queued", "running", "unknown"].includes(state)) out.definite += 1;
    if (killed.has(id)) {
      const transcript = statSync(join(ws.home, "workers", id, "transcript.log"), { throwIfNoEntry: false });
      const bySignal = result?.reason?.kind === "signal" && result.reason.signal === 9;
      // An agent killed before it printed anything leaves an empty transcript: kept, all the same.
      if (transcript?.size === 0) out.killedSilent += 1;
      if (result?.state !== "failed" || !bySignal || !transcript?.isFile()) {
        const how = result?.reason ? JSON.stringify(result.reason) : "no reason";
        out.killedWrong.push(
          `${id} (${result?.state ?? state}, ${how}, transcript ${transcript?.size ?? 0} B)`,
        );
      }
    } else if (result?.state !== "succeeded" || result.answer !== expectedAnswer(tasks[i]!)) {
      out.lost.push(id);
    }
  });
  return out;
}

/** Median RSS (KiB) of `pid` over `ms`. */
async function settledRss(pid: number, ms = 3000): Promise<number> {
  const samples: number[] = [];
  for (const start = now(); now() - start < ms; await sleep(SAMPLE_MS)) samples.push(memoryKb(pid).rss);
  return median(samples);
}

/**
 * (f) The soak: `count` short codex workers through a cap of `cap`, a share of them killed with SIGKILL at
 * random; every worker must end definitely, no result may be lost, and the supervisor's memory must stay flat.
 * Baseline: the same number of bare codex runs through `xargs -P cap`.
 */
export async function soak(ws: Workspace, options: SoakOptions = {}): Promise<Section> {
  const count = options.count ?? 500;
  const cap = options.cap ?? 16;
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const rand = random(seed);
  const startedAt = new Date();
  const loadAtStart = loadavg()[0]!;
  const left = { bare: new Leftovers(), baton: new Leftovers() };

  // The baseline runs before and after Baton's run, and Baton is set against their mean: a drift of
  // the machine's speed over the minutes the soak takes weighs on both sides alike.
  const baseline = async (when: "before" | "after") => {
    const bareTasks = Array.from({ length: count }, (_, i) => `soak bare ${when} #${i}`);
    log(`(f) baseline ${when}: ${count} bare codex runs through xargs -P ${cap}`);
    await coolDown();
    const ms = await bareRuns(ws, bareTasks, `soak-${when}`, cap);
    await left.bare.settle(ws);
    log(`(f) baseline ${when} took ${(ms / 1000).toFixed(1)} s`);
    return ms;
  };
  const bareBefore = await baseline("before");

  const pid = ws.supervisorPid;
  await ws.baton.configure(cap);
  const tasks = Array.from({ length: count }, (_, i) => `soak #${i}`);
  const victims = new Set<number>();
  const killCount = Math.round(count * (options.killShare ?? 0.05));
  while (victims.size < killCount) victims.add(Math.floor(rand() * count));
  await coolDown(); // the baseline's runs freed thousands of files: Baton's run starts as the baseline's did
  const rssStart = await settledRss(pid);
  const hwmStart = memoryKb(pid).hwm;
  log(`(f) supervisor ${pid}: RSS at start ${mib(rssStart)}; spawning ${count}, killing ${killCount}`);

  const cpu = cpuSeconds(pid);
  const start = now();
  const ids = await Promise.all(tasks.map((task) => ws.baton.spawn({ task })));
  const rssSpawned = memoryKb(pid).rss;
  const kills: Kill[] = [...victims].map((i) => ({ id: ids[i]!, delayMs: rand() * KILL_WINDOW_MS }));
  let finished = false;
  const killing = killer(ws, kills, ids, rand, () => finished);

  // Memory while the workers run, against how many have ended (a result on disk), read from outside.
  const pending = new Set(ids);
  const samples: { ended: number; rss: number }[] = [];
  const sampling = (async () => {
    while (!finished) {
      for (const id of pending)
        if (existsSync(join(ws.home, "workers", id, "result.json"))) pending.delete(id);
      samples.push({ ended: count - pending.size, rss: memoryKb(pid).rss });
      await sleep(SAMPLE_MS);
    }
  })();
  const waited = await ws.baton.wait(ids, { timeoutMs: 60 * 60_000 });
  const wallMs = now() - start;
  finished = true;
  await Promise.all([killing, sampling]);
  const supervisorCpu = cpuSeconds(pid) - cpu;
  expect(!waited.timedOut, "the soak's workers did not all end within an hour");
  log(`(f) ${count} workers ended after ${(wallMs / 1000).toFixed(1)} s`);

  await sleep(2000);
  const rssEnd = await settledRss(pid);
  const hwmEnd = memoryKb(pid).hwm;
  const at = (share: number) => samples.find((s) => s.ended >= count * share)?.rss ?? Number.NaN;
  const rssMiddle = at(0.5);
  const listing = await ws.baton.list();
  await left.baton.settle(ws);
  const leftover = workerProcessesOf(ws.home).length;
  const bareAfter = await baseline("after");
  const bareMs = (bareBefore + bareAfter) / 2;

  const killed = new Set(kills.filter((k) => k.outcome === "killed").map((k) => k.id));
  const checked = check(ws, ids, tasks, killed);
  const states = [...checked.byState].map(([state, n]) => `${state} ${n}`).join(", ");
  log(
    `(f) ${states}; killed ${killed.size}; lost ${checked.lost.length}; RSS ${mib(rssStart)} → ` +
      `${mib(rssMiddle)} → ${mib(rssEnd)}`,
  );

  const endToStart = rssEnd / rssStart;
  const endToMiddle = rssEnd / rssMiddle;
  const targets: Target[] = [
    {
      name: "(f) soak: workers that ended in a definite state",
      figure: `${checked.definite}/${count}`,
      target: `${count}/${count}`,
      pass: checked.definite === count,
    },
    {
      name: "(f) soak: killed workers ended failed by SIGKILL, transcript kept",
      figure: `${killed.size - checked.killedWrong.length}/${killed.size}`,
      target: `${killed.size}/${killed.size}`,
      pass: checked.killedWrong.length === 0 && killed.size > 0,
    },
    {
      name: "(f) soak: finished results lost or wrong",
      figure: String(checked.lost.length),
      target: "0",
      pass: checked.lost.length === 0,
    },
    {
      name: "(f) soak: wall time vs xargs -P, issue #10",
      figure: ratio(wallMs / bareMs),
      target: `≤ ${WALL_TARGET.toFixed(2)}x`,
      pass: wallMs / bareMs <= WALL_TARGET,
    },
    {
      name: "(f) soak: supervisor RSS, end vs middle",
      figure: ratio(endToMiddle),
      target: `≤ ${END_TO_MIDDLE_TARGET.toFixed(2)}x`,
      pass: endToMiddle <= END_TO_MIDDLE_TARGET,
    },
  ];
  const endedFirst = kills.filter((k) => k.outcome === "ended first").length;
  const quarterRss = [0.25, 0.5, 0.75].map((q) => `${q * 100}%: ${mib(at(q))}`).join(", ");
  const perMinute = (n: number, ms: number) => ((n / ms) * 60_000).toFixed(0);
  return {
    title: `(f) Soak: ${count} short workers through a cap of ${cap}, ${killCount} killed at random`,
    about: [
      `Reproduce this section alone with \`npm run bench -- soak\` (it rewrites only this section and its ` +
        "rows in the targets table). " +
        `Baseline: ${count} bare \`codex exec\` runs with Baton's flags through \`xargs -0 -n 1 -P ${cap} ` +
        "setsid -w sh -c ...`, as in (b), once before Baton's run and once after; Baton is set against the mean " +
        "of the two, so that a drift of the machine's speed over the soak's minutes weighs on both sides alike; " +
        "every answer checked. Baton: a fresh supervisor (its own workspace) with " +
        `max parallel ${cap} gets ${count} \`baton.spawn()\` calls at once, each a real codex worker against ` +
        `the scripted model, and \`baton.wait(ids)\`. Before each of the three runs, \`sync\` and ${RECENTLY_FREED_S} s ` +
        "of rest: this machine's ext4 has no journal, so it skips the inodes freed in the last minute when it " +
        "makes a file, and codex frees about twenty a run; without the rest, each run would make its files " +
        `among the thousands the first one freed. ${killCount} workers, chosen at random (seed ${seed}), ` +
        `have their agent killed with SIGKILL a random 0 to ${KILL_WINDOW_MS} ms after their \`status.json\` ` +
        "first shows its pid (the pid is checked against the worker's marker in `/proc/<pid>/environ` first). " +
        "Afterwards every worker's `result.json` is read from disk: the killed ones must have ended `failed` " +
        "by signal 9 with their transcript kept (empty if the agent was killed before it printed anything), every other one `succeeded` with its own `done: <task>` answer. " +
        `Supervisor RSS is \`VmRSS\` from \`/proc/<pid>/status\`: start is the median over 3 s before the ` +
        `spawns, "after the spawns" one reading once all ${count} spawn calls had returned (the workers queued), middle the sample (every ${SAMPLE_MS} ms) when half the workers had a result on disk, end ` +
        "the median over 3 s, 2 s after the last worker ended (the supervisor then holds all " +
        `${count} finished workers in its table).`,
    ],
    columns: ["figure", "Baton soak", `bare xargs -P ${cap} (baseline)`, "ratio"],
    rows: [
      ["workers", String(count), String(count), ""],
      ["final states", states, `exit 0: ${count}`, ""],
      [
        "killed with SIGKILL while running",
        `${killed.size} of ${killCount} chosen (${endedFirst} ended before their moment came)`,
        "",
        "",
      ],
      [
        "killed workers ended failed (signal 9) with transcript",
        `${killed.size - checked.killedWrong.length} of ${killed.size}`,
        "",
        "",
      ],
      ["finished results lost or wrong", String(checked.lost.length), "0", ""],
      ["store problems reported by `list()`", String(listing.problems.length), "", ""],
      ["worker processes left afterwards", String(leftover), "", ""],
      [
        "supervisor RSS start / after the spawns / middle / end",
        `${mib(rssStart)} / ${mib(rssSpawned)} / ${mib(rssMiddle)} / ${mib(rssEnd)}`,
        "",
        `end/start ${ratio(endToStart)}, end/middle ${ratio(endToMiddle)}`,
      ],
      ["supervisor VmHWM before / after", `${mib(hwmStart)} / ${mib(hwmEnd)}`, "", ""],
      [
        "wall time",
        `${(wallMs / 1000).toFixed(1)} s`,
        `${(bareMs / 1000).toFixed(1)} s (mean of ${(bareBefore / 1000).toFixed(1)} s before, ${(bareAfter / 1000).toFixed(1)} s after)`,
        ratio(wallMs / bareMs),
      ],
      ["workers a minute", perMinute(count, wallMs), perMinute(count, bareMs), ratio(bareMs / wallMs)],
      [
        "supervisor CPU time",
        `${supervisorCpu.toFixed(1)} s (${((supervisorCpu / count) * 1000).toFixed(0)} ms a worker)`,
        "",
        "",
      ],
    ],
    targets,
    notes: [
      `Run at ${startedAt.toISOString()}; load average (1 min) ${loadAtStart.toFixed(1)} at its start and ` +
        `${loadavg()[0]!.toFixed(1)} at its end (2 cores, shared with other work: both the baseline and ` +
        "Baton pay for it).",
      `Supervisor RSS as workers ended: ${quarterRss}; after the last, ${mib(rssEnd)}. Flat here means ` +
        "it does not grow as workers pass through (end vs middle). The start figure is a supervisor that " +
        `has never run a worker; the others include up to ${cap} running workers, the queue, and the table ` +
        "of finished ones.",
      `The killed workers end early, so Baton's run does slightly less work than the baseline ` +
        `(${killed.size} of ${count} runs cut short). ${checked.killedSilent} of them were killed before ` +
        "their agent printed anything (an empty transcript).",
      `Leftovers: ${left.bare.describe("bare")}; ${left.baton.describe("Baton")}.`,
      ...(checked.lost.length ? [`Lost or wrong: ${checked.lost.join(", ")}.`] : []),
      ...(checked.killedWrong.length
        ? [`Killed but not failed by signal 9: ${checked.killedWrong.join(", ")}.`]
        : []),
    ],
  };
}
