import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, machineCpuSeconds, median, now, ROOT, type Workspace } from "./common.ts";

/** Runs of each side per block, and blocks, alternating /bin/true and the chain. */
const RUNS = 50;
const BLOCKS = 4;
const TRUE = "/bin/true";
/** Says `ready` once it runs, inside its sandbox, then idles. */
const PROBE_AGENT = join(ROOT, "bench/fixtures/probe-agent.sh");

export interface SandboxCost {
  /** What the chain adds to a run started the same way, in ms: wall time, and the machine's CPU. */
  readonly wallMs: number;
  readonly machineMs: number;
  readonly runs: number;
}

/**
 * What the sandbox alone costs a worker: the very launch chain Baton starts a worker's agent with (its
 * launcher, bubblewrap with that worker's arguments, the launcher again inside), read from a live
 * worker, with the agent replaced by /bin/true; run one after another, against /bin/true started the
 * same way (Node's spawnSync, no terminal), in alternating blocks.
 */
export async function sandboxCost(ws: Workspace): Promise<SandboxCost> {
  const { seq } = await ws.baton.list();
  const controller = new AbortController();
  let id: string | undefined;
  // Its pid comes with `started`; its first output, once the chain has run up to the agent itself.
  const running = (async () => {
    let pid: number | undefined;
    for await (const event of ws.baton.watch({ since: seq, signal: controller.signal })) {
      if (event.type === "started" && event.worker === id) pid = event.pid;
      if (event.type === "output" && event.worker === id && pid !== undefined) return pid;
    }
    return undefined;
  })();
  id = await ws.baton.spawn({ task: "sandbox probe", bin: PROBE_AGENT });
  try {
    const pid = await running;
    expect(pid !== undefined, `the probe worker ${id} never started`);
    const chain = probeChain(ws, pid);
    const sides = { bare: { wall: [] as number[], cpu: 0 }, chain: { wall: [] as number[], cpu: 0 } };
    for (let block = 0; block < BLOCKS; block++) {
      for (const side of ["bare", "chain"] as const) {
        const [file, ...args] = side === "bare" ? [TRUE] : chain;
        const cpu = machineCpuSeconds();
        for (let i = 0; i < RUNS; i++) {
          const start = now();
          const run = spawnSync(file!, args, { cwd: ws.dir, env: ws.env, stdio: "ignore" });
          sides[side].wall.push(now() - start);
          expect(run.status === 0, `${side} run exited ${run.status}`);
        }
        sides[side].cpu += machineCpuSeconds() - cpu;
      }
    }
    const runs = RUNS * BLOCKS;
    return {
      wallMs: median(sides.chain.wall) - median(sides.bare.wall),
      machineMs: ((sides.chain.cpu - sides.bare.cpu) * 1000) / runs,
      runs,
    };
  } finally {
    controller.abort();
    await ws.baton.stop([id], { graceSeconds: 1 });
    await ws.baton.wait([id]);
  }
}

/**
 * The worker's launch chain, from its agent's process (the launcher that became bubblewrap): the
 * store's launcher with `--shield`, bubblewrap's arguments as they are, and inside, the launcher with
 * its own options (the prompt as standard input included) before /bin/true in place of the agent.
 */
function probeChain(ws: Workspace, pid: number): string[] {
  const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
  expect(argv[0]?.endsWith("bwrap"), `the probe's agent process is ${argv[0]}, not bubblewrap`);
  const launcher = join(ws.home, "baton-launch");
  const inner = argv.indexOf(launcher);
  const agentAt = argv.indexOf("--", inner);
  expect(inner > 0 && agentAt > inner, `no launcher inside the sandbox: ${argv.join(" ")}`);
  return [launcher, "--shield", "--", ...argv.slice(0, agentAt + 1), TRUE];
}
