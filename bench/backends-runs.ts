import { readdirSync, readFileSync } from "node:fs";
import type { Baton } from "../dist/index.js";
import { modelScriptLine } from "../dist/scripted-model/index.js";
import { type Subject, startBare } from "./backends-bare.ts";
import { expect, expectedAnswer, median, now, sleep, type Workspace } from "./common.ts";
import { memoryKb } from "./idle-memory.ts";

/** Pids of the live processes in process group `pgid`. */
export function groupPids(pgid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) === pgid) found.push(Number(name));
    } catch {}
  }
  return found;
}

/** Pids of the live processes of Baton worker `id` (they carry its BATON_WORKER_ID). */
function workerPids(id: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "latin1").split("\0").includes(`BATON_WORKER_ID=${id}`))
        found.push(Number(name));
    } catch {}
  }
  return found;
}

/** Whether one of `pids` is a `sleep` (the command fixture, stalled). */
export function sleeping(pids: readonly number[]): boolean {
  return pids.some((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "sleep";
    } catch {
      return false;
    }
  });
}

const treeKb = (pids: readonly number[]) =>
  pids.reduce((sum, pid) => {
    const rss = memoryKb(pid).rss;
    return sum + (Number.isFinite(rss) ? rss : 0);
  }, 0);

/** Waits for the run whose task has `marker` to wait on its model, then samples its processes' RSS. */
async function stalledRss(subject: Subject, marker: string, pids: () => number[]): Promise<number> {
  const start = now();
  while (!subject.waiting(marker, pids())) {
    expect(now() - start < 60_000, `${subject.name} ${marker}: not waiting on its model after 60 s`);
    await sleep(50);
  }
  await sleep(1500);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(treeKb(pids()));
    await sleep(200);
  }
  return median(samples);
}

async function waitGroupGone(pgid: number): Promise<void> {
  for (let i = 0; i < 100 && groupPids(pgid).length > 0; i++) await sleep(50);
}

/** A bare run's time, and when the agent itself started and was about to end (the command fixture says), from spawn. */
export interface BareTiming {
  readonly ms: number;
  readonly agentStartMs: number | undefined;
  readonly agentEndMs: number | undefined;
}

/** The epoch time (ms) the command fixture printed as `started <ns>` or `ending <ns>`, if it did. */
function stamp(lines: readonly string[], word: "started" | "ending"): number | undefined {
  const pattern = new RegExp(`^${word} ([0-9]{19})$`);
  const found = lines.map((line) => pattern.exec(line.trim())?.[1]).find(Boolean);
  return found ? Number(BigInt(found) / 1000n) / 1000 : undefined;
}

const since = (t0: number, t: number | undefined) => (t === undefined ? undefined : t - t0);

export async function bareTimed(
  subject: Subject,
  ws: Workspace,
  root: string,
  task: string,
): Promise<BareTiming> {
  const run = startBare(subject, ws, root, task);
  const result = await run.done;
  expect(
    result.ok && result.answer === expectedAnswer(task),
    `bare ${subject.name}: exit ${result.code}, ok ${result.ok}, answer ${result.answer}`,
  );
  await waitGroupGone(run.pid);
  return {
    ms: result.ms,
    agentStartMs: since(result.spawnedAt, stamp(result.lines, "started")),
    agentEndMs: since(result.spawnedAt, stamp(result.lines, "ending")),
  };
}

/**
 * Where one library run's time went, in ms from `baton.spawn`: the worker's `started` event (the
 * agent's process spawned, in its sandbox and terminal), the agent's own start and end (the command
 * fixture says when), the `state` event of its end, and `result` back in the caller.
 */
export interface LibraryTiming {
  readonly ms: number;
  readonly startedMs: number;
  readonly agentStartMs: number | undefined;
  readonly agentEndMs: number | undefined;
  readonly endedMs: number;
}

export async function libraryTimed(subject: Subject, baton: Baton, task: string): Promise<LibraryTiming> {
  const t0 = now();
  const id = await baton.spawn({ task, backend: subject.name, ...subject.spawn });
  await baton.wait([id]);
  const result = await baton.result(id);
  const elapsed = now() - t0;
  expect(
    result.state === "succeeded" && result.answer.trim() === expectedAnswer(task),
    `baton ${subject.name} ${id}: ${result.state}, answer ${result.answer}`,
  );
  const { events } = await baton.events(0, { workers: [id] });
  const at = (type: string, to?: string) => {
    const event = events.find((e) => e.type === type && (to === undefined || ("to" in e && e.to === to)));
    expect(event, `baton ${subject.name} ${id}: no ${type} event`);
    return Date.parse(event.at) - t0;
  };
  const lines = (await baton.logs(id).catch(() => "")).split("\n");
  return {
    ms: elapsed,
    startedMs: at("started"),
    agentStartMs: since(t0, stamp(lines, "started")),
    agentEndMs: since(t0, stamp(lines, "ending")),
    endedMs: at("state", "succeeded"),
  };
}

const stallTask = (name: string) => `${name}\n${modelScriptLine([{ type: "stall" }])}`;

export async function bareMemory(
  subject: Subject,
  ws: Workspace,
  root: string,
  name: string,
): Promise<number> {
  const run = startBare(subject, ws, root, stallTask(name));
  try {
    return await stalledRss(subject, `${name}\n`, () => groupPids(run.pid));
  } finally {
    try {
      process.kill(-run.pid, "SIGKILL");
    } catch {}
    await run.done.catch(() => undefined);
    await waitGroupGone(run.pid);
  }
}

export async function libraryMemory(subject: Subject, baton: Baton, name: string): Promise<number> {
  const id = await baton.spawn({
    task: stallTask(name),
    backend: subject.name,
    retries: 0,
    ...subject.spawn,
  });
  try {
    return await stalledRss(subject, `${name}\n`, () => workerPids(id));
  } finally {
    await baton.stop([id], { graceSeconds: 1 });
    for (let i = 0; i < 100 && workerPids(id).length > 0; i++) await sleep(50);
  }
}
