import { readdirSync, readFileSync } from "node:fs";
import {
  cpuSeconds,
  expect,
  IDLE_AGENT,
  log,
  median,
  now,
  ratio,
  type Section,
  sleep,
  type Workspace,
} from "./common.ts";

export function memoryKb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

interface Sample {
  readonly medianRssKb: number;
  readonly peakRssKb: number;
  readonly hwmKb: number;
  readonly cpuPercent: number;
}

/** Samples the process's memory every 200 ms for `durationMs`, and its CPU use over the whole span. */
async function sample(pid: number, durationMs: number): Promise<Sample> {
  const cpu = cpuSeconds(pid);
  const start = now();
  const rss: number[] = [];
  while (now() - start < durationMs) {
    rss.push(memoryKb(pid).rss);
    await sleep(200);
  }
  const seconds = (now() - start) / 1000;
  const cpuPercent = ((cpuSeconds(pid) - cpu) / seconds) * 100;
  return { medianRssKb: median(rss), peakRssKb: Math.max(...rss), hwmKb: memoryKb(pid).hwm, cpuPercent };
}

/** Live processes of this workspace's workers: they carry BATON_WORKER_ID and this BATON_HOME. */
export function workerProcessesOf(home: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, "latin1").split("\0");
      if (env.includes(`BATON_HOME=${home}`) && env.some((e) => e.startsWith("BATON_WORKER_ID="))) {
        found.push(Number(name));
      }
    } catch {}
  }
  return found;
}

export const mib = (kb: number) => `${(kb / 1024).toFixed(1)} MiB`;

/** (c) The supervisor's memory and CPU while it holds `count` idle workers, against itself with none. */
export async function idleMemory(ws: Workspace, count = 200): Promise<Section> {
  const pid = ws.supervisorPid;
  await ws.baton.configure(count + 56);
  await sleep(1000);
  const base = await sample(pid, 5000);
  log(`(c) baseline: RSS ${mib(base.medianRssKb)}, CPU ${base.cpuPercent.toFixed(2)}%`);

  const spawnStart = now();
  const ids = await Promise.all(
    Array.from({ length: count }, (_, i) => ws.baton.spawn({ task: `idle ${i}`, bin: IDLE_AGENT })),
  );
  let running = 0;
  while (running < count) {
    expect(now() - spawnStart < 120_000, `only ${running} of ${count} idle workers running after 120 s`);
    await sleep(100);
    running = (await ws.baton.list()).workers.filter((w) => w.state === "running").length;
  }
  const spawnSeconds = (now() - spawnStart) / 1000;
  log(`(c) ${count} idle workers running after ${spawnSeconds.toFixed(1)} s`);
  await sleep(1000);
  const held = await sample(pid, 10_000);
  log(`(c) holding ${count}: RSS peak ${mib(held.peakRssKb)}, CPU ${held.cpuPercent.toFixed(2)}%`);

  const stopStart = now();
  const stopped = await ws.baton.stop("all", { graceSeconds: 1 });
  const stopSeconds = (now() - stopStart) / 1000;
  const listed = (await ws.baton.list()).workers.filter((w) => ids.includes(w.id));
  const unfinished = listed.filter((w) => w.state === "running" || w.state === "queued").length;
  await sleep(500);
  const left = workerProcessesOf(ws.home).length;
  log(
    `(c) stopped ${stopped.length} in ${stopSeconds.toFixed(1)} s; unfinished ${unfinished}, processes left ${left}`,
  );
  expect(stopped.length === count && unfinished === 0 && left === 0, "idle workers were left behind");

  const perWorkerKb = (held.peakRssKb - base.medianRssKb) / count;
  return {
    title: `(c) Supervisor holding ${count} idle workers`,
    about: [
      `The supervisor process (pid from \`<BATON_HOME>/supervisor.json\`) of a fresh workspace, sampled from ` +
        `\`/proc/<pid>/status\` (VmRSS every 200 ms, VmHWM at the end) and \`/proc/<pid>/stat\` (utime+stime). ` +
        `Baseline: the same supervisor with 0 workers, sampled for 5 s. Then ${count} workers are spawned with ` +
        `\`bin: test/fixtures/idle-agent.sh\` (it just sleeps) and max parallel ${count + 56}; once \`list()\` ` +
        `shows all running, the idle supervisor is sampled for 10 s. CPU is the share of one core over the ` +
        `window. Then \`stop("all", {graceSeconds: 1})\`.`,
    ],
    columns: ["figure", "0 workers (baseline)", `${count} idle workers`, "ratio"],
    rows: [
      [
        "supervisor RSS, peak while idle",
        mib(base.peakRssKb),
        mib(held.peakRssKb),
        ratio(held.peakRssKb / base.peakRssKb),
      ],
      [
        "supervisor RSS, median",
        mib(base.medianRssKb),
        mib(held.medianRssKb),
        ratio(held.medianRssKb / base.medianRssKb),
      ],
      [
        "supervisor VmHWM (includes the spawn burst)",
        mib(base.hwmKb),
        mib(held.hwmKb),
        ratio(held.hwmKb / base.hwmKb),
      ],
      [
        "RSS per worker over the baseline (peak − baseline median) / N",
        "",
        `${perWorkerKb.toFixed(0)} KiB`,
        "",
      ],
      [
        "supervisor CPU while idle (% of one core)",
        `${base.cpuPercent.toFixed(2)}%`,
        `${held.cpuPercent.toFixed(2)}%`,
        "",
      ],
    ],
    targets: [],
    notes: [
      `${count} spawns issued at once were all running after ${spawnSeconds.toFixed(1)} s. ` +
        `\`stop("all", {graceSeconds: 1})\` returned after ${stopSeconds.toFixed(1)} s with ${stopped.length} ` +
        `stopped; afterwards ${unfinished} workers were unfinished and ${left} worker processes were alive.`,
    ],
  };
}
