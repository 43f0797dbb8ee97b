import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  commandLine,
  expect,
  expectedAnswer,
  log,
  median,
  ms,
  now,
  ratio,
  type Section,
  type Target,
  type Via,
  verdict,
  type Workspace,
} from "./common.ts";

/** How far over `node -e 0` each command may be, in ms; shutdown's is absolute. */
const OVER: Record<string, number> = { ls: 60, result: 60, poll: 60, spawn: 100 };
const SHUTDOWN_MS = 300;
const VIAS: readonly Via[] = ["bin", "node"];

/** Runs `FILE ARGS` with stdout and stderr piped, as an agent's shell tool would; resolves with its wall time. */
function timed(file: string, args: readonly string[], ws: { dir: string; env: NodeJS.ProcessEnv }) {
  return new Promise<{ ms: number; code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const start = now();
      const child = spawn(file, [...args], {
        cwd: ws.dir,
        env: ws.env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
      });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
      });
      child.once("error", reject);
      child.once("close", (code) => resolve({ ms: now() - start, code, stdout, stderr }));
    },
  );
}

/**
 * (h) What one CLI command costs against `node -e 0`, on a warm supervisor: ls, result, poll and spawn in
 * `ws`; shutdown of an idle supervisor in a workspace of its own, started again before each run.
 */
export async function cliStartup(ws: Workspace, root: string, runs = 15): Promise<Section> {
  const first = await ws.baton.spawn({ task: "startup first" });
  await ws.baton.wait([first]);
  const idle = {
    dir: join(root, "cli-idle"),
    env: { ...ws.env, BATON_HOME: join(root, "cli-idle", ".baton") },
  };
  mkdirSync(idle.dir, { recursive: true });
  const times: Record<string, number[]> = { node: [], shutdown: [] };
  const record = (key: string, value: number) => {
    times[key] ??= [];
    times[key].push(value);
  };
  const said = new Set<string>();
  const run1 = (args: readonly string[], via: Via, where: { dir: string; env: NodeJS.ProcessEnv } = ws) =>
    timed(...commandLine(args, via), where);
  for (let run = 1; run <= runs; run++) {
    times.node!.push((await timed(process.execPath, ["-e", "0"], ws)).ms);
    for (const via of VIAS) {
      for (const [name, args] of [
        ["ls", ["ls"]],
        ["result", ["result", first]],
        ["poll", ["poll", first]],
      ] as const) {
        const r = await run1(args, via);
        expect(r.code === 0, `baton ${args.join(" ")} (${via}) exited ${r.code}: ${r.stderr}`);
        record(`${name} ${via}`, r.ms);
      }
      const task = `startup spawn ${via} ${run}`;
      const spawned = await run1(["spawn", task], via);
      expect(spawned.code === 0, `baton spawn (${via}) exited ${spawned.code}: ${spawned.stderr}`);
      record(`spawn ${via}`, spawned.ms);
      // Its worker runs to the end before the next command, outside the timing: the machine is quiet again.
      const id = spawned.stdout.trim();
      await ws.baton.wait([id]);
      const result = await ws.baton.result(id);
      expect(result.answer === expectedAnswer(task), `${id}: answer ${result.answer}`);
    }

    const started = await run1(["ls"], "node", idle); // a fresh supervisor, idle
    expect(started.code === 0, `baton ls (idle workspace) exited ${started.code}: ${started.stderr}`);
    const stopped = await run1(["shutdown"], "bin", idle);
    expect(stopped.code === 0, `baton shutdown exited ${stopped.code}: ${stopped.stderr}`);
    times.shutdown!.push(stopped.ms);
    said.add(stopped.stdout.trim().replace(/pid \d+/, "pid N"));
    log(
      `(h) run ${run}/${runs}: node ${ms(times.node!.at(-1)!)}, ls ${ms(times["ls bin"]!.at(-1)!)} (by node ${ms(times["ls node"]!.at(-1)!)}), spawn ${ms(times["spawn bin"]!.at(-1)!)} (by node ${ms(times["spawn node"]!.at(-1)!)}), shutdown ${ms(times.shutdown!.at(-1)!)}`,
    );
  }
  const base = median(times.node!);
  const rows: string[][] = [["`node -e 0` (baseline)", ms(median(times.node!)), "", "", "", ""]];
  const targets: Target[] = [];
  for (const [name, via] of ["ls", "result", "poll", "spawn"].flatMap((n) =>
    VIAS.map((v) => [n, v] as const),
  )) {
    const m = median(times[`${name} ${via}`]!);
    const over = m - base;
    const pass = over <= OVER[name]!;
    const args = name === "ls" ? "ls" : name === "spawn" ? 'spawn "TASK"' : `${name} ID`;
    rows.push([
      via === "bin" ? `\`baton ${args}\`` : `\`node dist/cli/main.js ${args}\``,
      ms(m),
      ms(over),
      ratio(m / base),
      via === "bin" ? `≤ ${OVER[name]} ms over` : "",
      via === "bin" ? verdict(pass) : "",
    ]);
    if (via === "bin")
      targets.push({
        name: `(h) baton ${name}: over node -e 0`,
        figure: ms(over),
        target: `≤ ${OVER[name]} ms`,
        pass,
      });
  }
  const down = median(times.shutdown!);
  rows.push([
    "`baton shutdown` (idle)",
    ms(down),
    ms(down - base),
    ratio(down / base),
    `< ${SHUTDOWN_MS} ms`,
    verdict(down < SHUTDOWN_MS),
  ]);
  targets.push({
    name: "(h) baton shutdown of an idle workspace",
    figure: ms(down),
    target: `< ${SHUTDOWN_MS} ms`,
    pass: down < SHUTDOWN_MS,
  });
  return {
    title: "(h) CLI start-up: one command against `node -e 0`",
    about: [
      "Each command is a new process of the `baton` bin (dist/cli/baton, the native client, which has the " +
        "supervisor run it: native/baton.c), and again of Node's CLI (`node dist/cli/main.js ...`), " +
        `with stdout and stderr piped, as an agent's ` +
        `shell tool runs it, timed from spawn to exit; the baseline is \`node -e 0\` started the same way. ` +
        `${runs} runs, interleaved (baseline, ls, result, poll, spawn, shutdown), medians. The supervisor is ` +
        "warm (already running); `result` and `poll` read a finished worker; each spawned worker (the real " +
        "codex) runs to its end before the next run, outside the timing. `shutdown` stops an idle supervisor " +
        "of another workspace, started by a `baton ls` just before (not timed).",
    ],
    columns: ["command", "median", "over baseline", "ratio", "target", "result"],
    rows,
    targets,
    notes: [`\`baton shutdown\` printed: ${[...said].map((s) => `"${s}"`).join(", ")}.`],
  };
}
