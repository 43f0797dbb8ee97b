import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Baton } from "../dist/index.js";
import { TestHost } from "../test/support/hosts.ts";
import { TestRedis } from "../test/support/redis.ts";
import {
  closeWorkspace,
  expect,
  expectedAnswer,
  log,
  median,
  ms,
  now,
  openWorkspace,
  percentile,
  ROOT,
  ratio,
  runCli,
  type Section,
  supervisorPidOf,
  type Workspace,
} from "./common.ts";

// (l) A workspace on a BullMQ queue (docs/scale-out.md): throughput with 1, 2 and 3 hosts of 4 slots
// against one local supervisor with as many slots, the latency the queue adds from spawn to start, and
// the memory of the coordinator and of each host. The workers run a fixture agent that mostly waits.

const WAIT_AGENT = join(ROOT, "bench/fixtures/wait-agent.sh");
const SLOTS = 4;

export interface ScaleOutPlan {
  /** Workers per throughput round. */
  readonly workers: number;
  /** Seconds each throughput worker waits. */
  readonly waitSeconds: number;
  /** Spawn-to-start samples for each of local and queue. */
  readonly samples: number;
}

export const SCALE_OUT_PLAN: ScaleOutPlan = { workers: 24, waitSeconds: 3, samples: 30 };

const agent = (seconds: number) => ({ backend: "command", agentCommand: `${WAIT_AGENT} ${seconds}` });

/** Spawns `count` waiting workers at once and waits for all: the wall time, every answer checked. */
async function round(ws: Workspace, tag: string, count: number, seconds: number): Promise<number> {
  const tasks = Array.from({ length: count }, (_, i) => `scale-out ${tag} #${i}`);
  const start = now();
  const ids = await ws.baton.spawnMany(tasks.map((task) => ({ task, ...agent(seconds) })));
  const waited = await ws.baton.wait(ids);
  const elapsed = now() - start;
  expect(!waited.timedOut, `${tag}: wait timed out`);
  const results = await ws.baton.results(ids);
  results.forEach((result, i) => {
    const ok =
      "state" in result && result.state === "succeeded" && result.answer === expectedAnswer(tasks[i]!);
    expect(ok, `${tag} #${i}: ${JSON.stringify(result).slice(0, 300)}`);
  });
  return elapsed;
}

/** Spawn to the worker's `started` event, one worker at a time (each ended before the next). */
async function startLatencies(ws: Workspace, tag: string, samples: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    let since = (await ws.baton.list()).seq;
    const start = now();
    const id = await ws.baton.spawn({ task: `latency ${tag} #${i}`, ...agent(0) });
    for (;;) {
      const batch = await ws.baton.events(since, { workers: [id], waitMs: 30_000 });
      since = batch.next;
      if (batch.events.some((event) => event.type === "started")) break;
      expect(batch.events.length > 0, `${tag}: no start of ${id} within 30 s`);
    }
    out.push(now() - start);
    const waited = await ws.baton.wait([id]);
    expect(!waited.timedOut, `${tag}: ${id} did not end`);
  }
  return out;
}

/** Resident memory of a process now, in MiB. */
function rssMiB(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(line?.[1] ?? 0) / 1024;
}

/** Samples the peak resident memory of `pids` while `work` runs. */
async function peakRss<T>(pids: readonly number[], work: () => Promise<T>): Promise<[T, number[]]> {
  const peaks = pids.map(() => 0);
  const sample = () => {
    pids.forEach((pid, i) => {
      try {
        peaks[i] = Math.max(peaks[i]!, rssMiB(pid));
      } catch {}
    });
  };
  sample();
  const timer = setInterval(sample, 100);
  try {
    return [await work(), peaks];
  } finally {
    clearInterval(timer);
    sample();
  }
}

/** The workspace's supervisor made a coordinator: `baton config --redis`, then a new supervisor. */
async function onQueue(ws: Workspace, redis: TestRedis): Promise<{ ws: Workspace; key: string }> {
  const config = JSON.parse(await runCli(ws, ["config", "--redis", redis.url, "--json"])) as {
    workspace: string;
  };
  await ws.baton.shutdown(AbortSignal.timeout(30_000));
  ws.baton.close();
  const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env: ws.env });
  return { ws: { ...ws, baton, supervisorPid: supervisorPidOf(ws.home) }, key: config.workspace };
}

const mib = (value: number) => `${value.toFixed(0)} MiB`;
const perMinute = (count: number, wallMs: number) => (count * 60_000) / wallMs;

export async function scaleOut(root: string, plan: ScaleOutPlan = SCALE_OUT_PLAN): Promise<Section> {
  const { workers, waitSeconds, samples } = plan;
  const redis = await TestRedis.start();
  const hosts: TestHost[] = [];
  const local = await openWorkspace(root, "scale-out-local");
  let queued: Workspace | undefined;
  try {
    // One local supervisor with 4, 8 and 12 slots: the baseline.
    const localWall: number[] = [];
    let localPeak = 0;
    for (const slots of [4, 8, 12]) {
      await local.baton.configure(slots);
      const [wall, [peak = 0]] = await peakRss([local.supervisorPid], () =>
        round(local, `local-${slots}`, workers, waitSeconds),
      );
      localWall.push(wall);
      localPeak = Math.max(localPeak, peak);
      log(`(l) local, ${slots} slots: ${workers} workers in ${ms(wall)}`);
    }
    await local.baton.configure(12);
    const localLatency = await startLatencies(local, "local", samples);
    const localIdle = rssMiB(local.supervisorPid);

    // The same workspace kind on the queue, with 1, 2, then 3 hosts of 4 slots (the cap above them).
    const base = await openWorkspace(root, "scale-out-queue");
    const { ws, key } = await onQueue(base, redis);
    queued = ws;
    await ws.baton.configure(64);
    const queueWall: number[] = [];
    let peaks: number[] = [];
    for (const count of [1, 2, 3]) {
      const name = `bench-host-${count}`;
      hosts.push(await TestHost.start(ws, redis, { name, workspace: key, slots: SLOTS, lockMs: 15_000 }));
      const pids = [ws.supervisorPid, ...hosts.map((host) => host.pid)];
      const [wall, peak] = await peakRss(pids, () => round(ws, `hosts-${count}`, workers, waitSeconds));
      queueWall.push(wall);
      peaks = peak;
      log(`(l) ${count} host(s) of ${SLOTS} slots: ${workers} workers in ${ms(wall)}`);
    }
    const queueLatency = await startLatencies(ws, "queue", samples);
    const idle = [ws.supervisorPid, ...hosts.map((host) => host.pid)].map(rssMiB);

    const rows: string[][] = [1, 2, 3].map((count, i) => {
      const baseline = perMinute(workers, localWall[i]!);
      const through = perMinute(workers, queueWall[i]!);
      return [
        `${count} × ${SLOTS} = ${count * SLOTS}`,
        `${baseline.toFixed(0)} a minute (${ms(localWall[i]!)})`,
        `${through.toFixed(0)} a minute (${ms(queueWall[i]!)})`,
        ratio(through / baseline),
      ];
    });
    const added = median(queueLatency) - median(localLatency);
    const addedP99 = percentile(queueLatency, 99) - percentile(localLatency, 99);
    return {
      title: "(l) Many machines: throughput, spawn-to-start and memory on a BullMQ queue",
      about: [
        `A workspace on a queue (\`baton config --redis\`): its supervisor is the coordinator, and \`baton host\` processes ` +
          `with ${SLOTS} slots each take its workers from a real redis-server on loopback (password, no persistence); ` +
          "all of them on this one machine, in folders of their own. The baseline is one local supervisor of the same kind " +
          "of workspace with as many slots (`configure`), measured in the same run. Workers run a fixture agent on the " +
          `command backend (\`bench/fixtures/wait-agent.sh\`) that reads its prompt, waits ${waitSeconds} s and answers; ` +
          `${workers} spawned at once per round (one \`spawnMany\`), timed to \`wait\` returning; every answer checked.`,
        `Spawn to start: ${samples} workers one after another (each ended before the next), from the spawn request ` +
          "to its `started` event reaching the client; locally (12 slots) and through the queue (3 hosts).",
      ],
      columns: ["slots", "one local supervisor (baseline)", "coordinator and hosts", "throughput ratio"],
      rows,
      targets: [],
      notes: [
        `Spawn to start, local: median ${ms(median(localLatency), 1)}, p99 ${ms(percentile(localLatency, 99), 1)}; ` +
          `through the queue: median ${ms(median(queueLatency), 1)}, p99 ${ms(percentile(queueLatency, 99), 1)}. ` +
          `Added by the queue: ${ms(added, 1)} at the median, ${ms(addedP99, 1)} at p99 (a host takes a job as ` +
          "BullMQ hands it over, then starts the worker under its own supervisor and reports its start back through the updates queue).",
        `Memory (RSS). Coordinator: ${mib(idle[0]!)} at the end (idle), peak ${mib(peaks[0]!)} during the 3-host round; ` +
          `each host: at the end ${idle.slice(1).map(mib).join(", ")}, peak ${peaks.slice(1).map(mib).join(", ")}. ` +
          `The local supervisor: ${mib(localIdle)} idle, peak ${mib(localPeak)}. Agents' own memory is not counted.`,
      ],
    };
  } finally {
    for (const host of hosts) await host.stop().catch(() => {});
    if (queued) await closeWorkspace(queued).catch((e: Error) => log(`cleanup: ${e.message}`));
    await closeWorkspace(local).catch((e: Error) => log(`cleanup: ${e.message}`));
    await redis.stop();
  }
}
