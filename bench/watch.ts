import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CLI,
  cpuSeconds,
  expect,
  log,
  median,
  ms,
  now,
  percentile,
  ROOT,
  ratio,
  type Section,
  STAMP_AGENT,
  verdict,
  type Workspace,
} from "./common.ts";

const CHATTER_AGENT = join(ROOT, "bench/fixtures/chatter.sh");

/** The fixture's exit instant, in epoch milliseconds (it writes nanoseconds). */
const stampOf = (file: string) => Number(BigInt(readFileSync(file, "utf8").trim()) / 1000n) / 1000;

/** One worker of the stamp fixture: its exit instant to `wait` returning, and to a watcher's event. */
async function sample(ws: Workspace, task: string): Promise<{ wait: number; watch: number }> {
  const { seq } = await ws.baton.list();
  const controller = new AbortController();
  let seen: number | undefined;
  let id: string | undefined;
  const watching = (async () => {
    for await (const event of ws.baton.watch({ since: seq, signal: controller.signal })) {
      if (event.type === "state" && event.worker === id && event.to === "succeeded") {
        seen = now();
        return;
      }
    }
  })();
  id = await ws.baton.spawn({ task, bin: STAMP_AGENT, write: [ws.env.BENCH_STAMP_DIR!] });
  await ws.baton.wait([id]);
  const waited = now();
  await watching;
  controller.abort();
  const exited = stampOf(join(ws.env.BENCH_STAMP_DIR!, `${id}.stamp`));
  expect(seen !== undefined, `the watcher never saw ${id} succeed`);
  return { wait: waited - exited, watch: seen - exited };
}

/** The supervisor's CPU seconds while `count` chatty workers run, with `dashboards` watchers reading. */
async function busyCpu(ws: Workspace, count: number, dashboards: number): Promise<number> {
  // Each watcher reads from the seq before the spawns: it sees every event, however late it connects.
  const { seq } = await ws.baton.list();
  const watchers = Array.from({ length: dashboards }, () =>
    spawn(process.execPath, [CLI, "watch", "--json", "--since", String(seq)], {
      env: ws.env,
      stdio: ["ignore", "pipe", "inherit"],
    }),
  );
  let lines = 0;
  for (const watcher of watchers)
    watcher.stdout.on("data", (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 10) lines++;
    });
  const before = cpuSeconds(ws.supervisorPid);
  const ids = await ws.baton.spawnMany(
    Array.from({ length: count }, (_, i) => ({
      task: `chatter ${i}`,
      bin: CHATTER_AGENT,
      maxParallel: count,
      label: `chatter-${i}`,
    })),
  );
  await ws.baton.wait(ids);
  const used = cpuSeconds(ws.supervisorPid) - before;
  for (const watcher of watchers) watcher.kill("SIGTERM");
  await Promise.all(watchers.map((w) => new Promise((r) => w.once("close", r))));
  if (dashboards > 0) expect(lines > count * 3 * dashboards, `the watchers printed only ${lines} lines`);
  return used;
}

/** (j) A worker's end to its event reaching a watcher, against `wait`; the supervisor's CPU with dashboards. */
export async function watchCost(ws: Workspace, samples = 40): Promise<Section> {
  const waits: number[] = [];
  const watches: number[] = [];
  for (let i = 0; i <= samples; i++) {
    const s = await sample(ws, `watch latency ${i}`);
    if (i === 0) continue; // warm-up
    waits.push(s.wait);
    watches.push(s.watch);
    if (i % 10 === 0) log(`(j) ${i}/${samples}: wait ${ms(s.wait, 2)}, watch ${ms(s.watch, 2)}`);
  }
  const workers = 50;
  const seconds = 10; // the fixture's default
  const quiet = await busyCpu(ws, workers, 0);
  log(`(j) ${workers} chatty workers, no watcher: supervisor CPU ${quiet.toFixed(2)} s`);
  const watched = await busyCpu(ws, workers, 3);
  log(`(j) ${workers} chatty workers, 3 watchers: supervisor CPU ${watched.toFixed(2)} s`);
  // Both answers leave the supervisor on the same tick; half a millisecond is the timer's noise.
  const latencyPass = median(watches) <= median(waits) + 0.5;
  const cpuRatio = watched / quiet;
  return {
    title: "(j) Events: a worker's end to a watcher, and the supervisor's CPU with three dashboards",
    about: [
      "Latency: the exit-stamp fixture of (d) runs as a worker while a `baton.watch()` reader started " +
        "before it waits for its `state → succeeded` event, and `baton.wait([id])` waits too; each latency " +
        `is its arrival minus the fixture's exit stamp. ${samples} samples after one warm-up; p99 is nearest-rank.`,
      `CPU: ${workers} workers of \`bench/fixtures/chatter.sh\` (a line every 100 ms for ${seconds} s) run at ` +
        "once, first with no watcher, then with three `baton watch --json` processes reading every event " +
        "(what `top` and `ui` read); the supervisor's user + system CPU from the spawn to the last end.",
    ],
    columns: ["measure", "median", "p99", "ratio", "target", "result"],
    rows: [
      ["`wait` returns (baseline)", ms(median(waits), 2), ms(percentile(waits, 99), 2), "1.00x", "", ""],
      [
        "`watch` event arrives",
        ms(median(watches), 2),
        ms(percentile(watches, 99), 2),
        ratio(median(watches) / median(waits)),
        "median at most `wait`'s + 0.5 ms",
        verdict(latencyPass),
      ],
      [
        `supervisor CPU, ${workers} workers, no watcher (baseline)`,
        `${quiet.toFixed(2)} s`,
        "",
        "1.00x",
        "",
        "",
      ],
      [
        `supervisor CPU, ${workers} workers, 3 watchers`,
        `${watched.toFixed(2)} s`,
        "",
        ratio(cpuRatio),
        "measured",
        "",
      ],
    ],
    targets: [
      {
        name: "(j) end to watch event, median",
        figure: ms(median(watches), 1),
        target: `<= wait's (${ms(median(waits), 1)}) + 0.5 ms`,
        pass: latencyPass,
      },
    ],
    notes: [
      `Three dashboards cost the supervisor ${(watched - quiet).toFixed(2)} s of CPU more over ${workers} workers of ${seconds} s ` +
        `(${(((watched - quiet) / (workers * seconds)) * 1000).toFixed(2)} ms per worker-second).`,
    ],
  };
}
