import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { directiveScript, message, startScriptedModel } from "../dist/scripted-model/index.js";
import {
  commandLine,
  expect,
  expectedAnswer,
  Leftovers,
  log,
  median,
  ms,
  now,
  ratio,
  runCli,
  type Section,
  type Target,
  type Via,
  verdict,
  type Workspace,
} from "./common.ts";
import { bareRuns } from "./fanout.ts";

/** Targets of the issue for 8 workers: one call each, and one call for all. */
const TARGET_EACH = 1.15;
const TARGET_ALL = 1.05;
/** How long the thinking model takes before each answer: a real model's turn is seconds, not none. */
const THINK_MS = 2_000;
const TASK_LINE = /^TASK: (.*)$/m;

type Mode = "each" | "all";
const LABEL: Record<Mode, string> = { each: "one spawn per worker", all: "one spawn for all" };
/** Every N goes through the bin; N = 8, the targets' N, through Node's CLI too, for comparison. */
const viasFor = (n: number): Via[] => (n === 8 ? ["bin", "node"] : ["bin"]);
const BY: Record<Via, string> = { bin: "", node: ", by `node dist/cli/main.js`" };

/** What this build of the CLI offers: several tasks in one spawn, several answers in one result. */
async function features(ws: Workspace): Promise<{ manyTasks: boolean; resultMany: boolean }> {
  const spawnHelp = await runCli(ws, ["spawn", "--help"]);
  const resultHelp = await runCli(ws, ["result", "--help"]);
  return { manyTasks: /--task\b/.test(spawnHelp), resultMany: /\bids\.\.\./.test(resultHelp) };
}

/** How many CLI processes an agent starts, one after the other, for `n` workers in `mode`. */
const callsFor = (n: number, mode: Mode, resultMany: boolean) =>
  mode === "each" ? 2 * n + 1 : resultMany ? 3 : n + 2;

/** A word quoted for sh. */
const quoted = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

/**
 * The agent's commands as one sh script, as an agent's shell runs them: `each`: one `baton spawn TASK`
 * per worker, one after the other, then `baton wait`, then one `baton result ID` per worker; `all`: one
 * `baton spawn --task ... --task ...`, `baton wait`, and `baton result ID...` (or one `result` per
 * worker if this build takes one id). Its arguments: the folder for the answers, then the tasks (`each`)
 * or the spawn's arguments (`all`). The ids go to `ids`, the answers to `answer-I` (or `answers`).
 */
function agentScript(mode: Mode, resultMany: boolean, via: Via): string {
  const [file, args] = commandLine([], via);
  const baton = [file, ...args].map(quoted).join(" ");
  const spawns =
    mode === "each"
      ? `ids=; for task in "$@"; do id=$(${baton} spawn "$task"); ids="$ids $id"; done`
      : `ids=$(${baton} spawn "$@")`;
  const results =
    mode === "all" && resultMany
      ? `${baton} result $ids >"$out/answers"`
      : `i=0; for id in $ids; do ${baton} result "$id" >"$out/answer-$i"; i=$((i + 1)); done`;
  return [
    "set -e",
    "out=$1; shift",
    spawns,
    `${baton} wait $ids >/dev/null`,
    results,
    'echo $ids >"$out/ids"',
  ].join("\n");
}

let scripts = 0;

/**
 * The agent's path through the shell, timed from starting its shell to the shell's end (the last
 * answer printed): one `sh`, started as the bare runs' `xargs` is, that runs {@link agentScript}. Each
 * command is a process of its own, started by that small shell, as an agent's shell starts it (started
 * by this benchmark's own Node process, of over 100 MB, each would pay about 2 ms more for its fork).
 */
async function throughCli(
  ws: Workspace,
  tasks: readonly string[],
  mode: Mode,
  resultMany: boolean,
  via: Via,
) {
  const out = join(ws.dir, "cli-out", String(++scripts));
  mkdirSync(out, { recursive: true });
  const args = mode === "each" ? [...tasks] : tasks.flatMap((task) => ["--task", task]);
  const start = now();
  const child = spawn("sh", ["-c", agentScript(mode, resultMany, via), "sh", out, ...args], {
    cwd: ws.dir,
    env: ws.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  const elapsed = now() - start;
  expect(code === 0, `the agent's commands (${mode}, by ${via}) exited ${code}: ${stderr.trim()}`);
  const ids = readFileSync(join(out, "ids"), "utf8").trim().split(/\s+/);
  expect(ids.length === tasks.length, `spawned ${ids.length} of ${tasks.length}`);
  for (const [i, id] of ids.entries()) {
    if (mode === "each" || !resultMany) {
      const printed = readFileSync(join(out, `answer-${i}`), "utf8").trim();
      expect(printed === expectedAnswer(tasks[i]!), `baton result ${id}: ${printed}`);
    }
    const result = await ws.baton.result(id);
    expect(result.answer === expectedAnswer(tasks[i]!), `${id}: ${result.state}, answer ${result.answer}`);
  }
  return elapsed;
}

/**
 * Node's own start-up, `node -e 0` started as {@link throughCli} starts the CLI, by a small shell: the
 * median over three loops of `runs` runs, each loop's time divided by `runs`.
 */
async function nodeStartup(ws: Workspace, runs = 7): Promise<number> {
  const loop = `i=0; while [ $i -lt ${runs} ]; do ${quoted(process.execPath)} -e 0; i=$((i + 1)); done`;
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn("sh", ["-c", loop], { cwd: ws.dir, env: ws.env, stdio: "ignore" });
      child.once("error", reject);
      child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`node -e 0 exited ${code}`))));
    });
    times.push((now() - start) / runs);
  }
  return median(times);
}

interface Rows {
  readonly rows: string[][];
  readonly targets: Target[];
  /** Per N: the bare median, for the floors in the notes. */
  readonly bare: Map<number, number>;
}

/** Bare runs and the CLI's modes for each N of `plan`, alternating, on the model `ws` is pointed at. */
async function measure(
  ws: Workspace,
  plan: readonly [n: number, reps: number][],
  modes: readonly Mode[],
  resultMany: boolean,
  left: { bare: Leftovers; baton: Leftovers },
  kind: string,
): Promise<Rows> {
  const out: Rows = { rows: [], targets: [], bare: new Map() };
  const thinking = kind !== "";
  for (const [n, reps] of plan) {
    const bares: number[] = [];
    // Reported mode by mode; run the bin's ways first, right after their baseline, so that a machine
    // whose speed drifts (a shared host) weighs on the judged rows as little as it can.
    const ways = modes.flatMap((mode) => viasFor(n).map((via) => ({ mode, via, key: `${mode} ${via}` })));
    const order = [...ways].sort((a, b) => Number(a.via !== "bin") - Number(b.via !== "bin"));
    const clis = new Map(ways.map((way) => [way.key, [] as number[]]));
    for (let rep = 1; rep <= reps; rep++) {
      const tasks = (k: string) =>
        Array.from({ length: n }, (_, i) => `cli ${k}${kind} n${n} rep${rep} #${i}`);
      bares.push(await bareRuns(ws, tasks("bare"), `cli${kind}-n${n}-rep${rep}`));
      await left.bare.settle(ws);
      for (const { mode, via, key } of order) {
        clis.get(key)!.push(await throughCli(ws, tasks(key.replace(" ", "-")), mode, resultMany, via));
        await left.baton.settle(ws);
      }
      log(
        `(i)${kind} N=${n} rep ${rep}/${reps}: bare ${ms(bares.at(-1)!)}, ${ways.map((w) => `${w.key} ${ms(clis.get(w.key)!.at(-1)!)}`).join(", ")}`,
      );
    }
    out.bare.set(n, median(bares));
    for (const { mode, via, key } of ways) {
      const times = clis.get(key)!;
      const r = median(times) / median(bares);
      const target = mode === "each" ? TARGET_EACH : TARGET_ALL;
      const label = `${LABEL[mode]}${BY[via]}${thinking ? `, model thinks ${THINK_MS / 1000} s` : ""}`;
      const judged = n === 8 && via === "bin";
      out.rows.push([
        String(n),
        label,
        `${ms(median(bares))} (${bares.map((v) => v.toFixed(0)).join(", ")})`,
        `${ms(median(times))} (${times.map((v) => v.toFixed(0)).join(", ")})`,
        ratio(r),
        judged ? `≤ ${target.toFixed(2)}x` : "",
        judged ? verdict(r <= target) : "",
      ]);
      // The issue's targets are set on the instant model, the benchmark's own; the thinking rows show them.
      if (judged && !thinking) {
        out.targets.push({
          name: `(i) N=8 through the CLI, ${label}, vs xargs -P`,
          figure: ratio(r),
          target: `≤ ${target.toFixed(2)}x`,
          pass: r <= target,
        });
      }
    }
  }
  return out;
}

/** A scripted model like the benchmark's, that thinks `THINK_MS` before each answer; `ws` pointed at it. */
async function thinkingWorkspace(ws: Workspace) {
  const model = await startScriptedModel({
    script: directiveScript((request) =>
      message(expectedAnswer(TASK_LINE.exec(request.userText)?.[1] ?? "?")),
    ),
    delayMs: THINK_MS,
  });
  const codexHome = join(dirname(ws.dir), "codex-home-thinking");
  await model.writeCodexHome(codexHome);
  return { model, ws: { ...ws, env: { ...ws.env, CODEX_HOME: codexHome } } };
}

/**
 * (i) N workers started from the shell with the CLI, against N bare codex runs under `xargs -P N`: on the
 * benchmark's model, which answers at once, and (`thinking`) on one that thinks THINK_MS first.
 */
export async function cliFanout(
  ws: Workspace,
  plan: readonly [n: number, reps: number][],
  thinking: readonly [n: number, reps: number][] = [
    [8, 2],
    [32, 1],
  ],
): Promise<Section> {
  await ws.baton.configure(64);
  const { manyTasks, resultMany } = await features(ws);
  const modes: Mode[] = manyTasks ? ["each", "all"] : ["each"];
  const left = { bare: new Leftovers(), baton: new Leftovers() };
  const node = await nodeStartup(ws);
  const instant = await measure(ws, plan, modes, resultMany, left, "");
  const slow = await thinkingWorkspace(ws);
  let thought: Rows;
  try {
    thought = await measure(slow.ws, thinking, modes, resultMany, left, " thinking");
  } finally {
    await slow.model.close();
  }
  return {
    title: "(i) N workers through the CLI, as an agent drives them from its shell",
    about: [
      "Baseline: N bare `codex exec` runs under `xargs -P N`, as in (b). Baton: the commands an agent runs " +
        "from its shell, each a new process of the `baton` bin (dist/cli/baton: the native client, which has " +
        "the supervisor run them; see native/baton.c) and, at N = 8, of Node's CLI (`node dist/cli/main.js`) " +
        "too, one after the other: " +
        "`baton spawn TASK` once per worker (or, one spawn for all, `baton spawn --task T1 --task T2 ...`), " +
        "then `baton wait ID...`, then `baton result ID` once per worker" +
        (resultMany ? " (one spawn for all: one `baton result ID...` for all)" : "") +
        "; all from one `sh` script, as an agent's shell runs them, timed from starting that shell (as the " +
        "bare runs' `xargs` is started) to its end, the last answer printed. Max parallel 64. Every answer is " +
        "checked (as printed, and through the library, outside the timing). Runs alternate: bare, then Baton's ways through " +
        "the bin, then through Node's CLI (the bin's right after their baseline); medians (individual " +
        "runs in parentheses).",
      "The first rows use the benchmark's scripted model, which answers at once: a bare codex run then " +
        `takes ${instant.bare.has(1) ? `about ${ms(instant.bare.get(1)!)}` : "a fraction of a second"}, and ` +
        `the CLI's fixed costs dominate. The rows marked "model thinks" use a second scripted model that waits ` +
        `${THINK_MS / 1000} s before each answer (\`delayMs\` of src/scripted-model/server.ts), as a real ` +
        "model's turn does, for the bare runs and Baton alike.",
    ],
    columns: [
      "N",
      "Baton",
      "bare xargs -P N (baseline)",
      "Baton through the CLI",
      "ratio",
      "target",
      "result",
    ],
    rows: [...instant.rows, ...thought.rows],
    targets: instant.targets,
    notes: [
      manyTasks
        ? "This build's `baton spawn` takes several `--task`s: both forms were measured."
        : "This build's `baton spawn` takes one task a call: only one spawn per worker was measured.",
      "The bin starts no Node process for these commands; the targets are judged on it, the command users and agents run.",
      ...floors(node, instant.bare.get(8), thought.bare.get(8), modes, resultMany),
      `Leftovers: ${left.bare.describe("bare")}; ${left.baton.describe("Baton")}.`,
    ],
  };
}

/**
 * Why a target is out of reach whatever the CLI does: the processes an agent starts one after the other
 * each cost at least Node's own start-up, measured here as `node -e 0`.
 */
function floors(
  node: number,
  bareInstant: number | undefined,
  bareThinking: number | undefined,
  modes: readonly Mode[],
  resultMany: boolean,
): string[] {
  if (bareInstant === undefined) return [];
  const lines = [
    `\`node -e 0\`, started the same way (by a small shell), took ${ms(node)} in this run (the median of three loops of 7 runs).`,
  ];
  for (const mode of modes) {
    const calls = callsFor(8, mode, resultMany);
    const target = mode === "each" ? TARGET_EACH : TARGET_ALL;
    // One per worker: every call comes after the one before, and the last worker's model answers only
    // after the last spawn. One for all: the spawn's start-up comes before any worker starts and the
    // results' after they all end; only the wait's overlaps the workers' own time.
    const floor = (bare: number, think: number) =>
      mode === "each" ? Math.max(bare, calls * node + think) / bare : (bare + (calls - 1) * node) / bare;
    const how =
      mode === "each"
        ? `${calls} CLI processes, one after the other, take at least ${calls} × ${ms(node)} = ${ms(calls * node)} (with the thinking model, plus the last worker's ${THINK_MS / 1000} s)`
        : `of its ${calls} CLI processes, ${calls - 1} come before any worker starts or after they all end: at least the workers' own time and ${calls - 1} × ${ms(node)}`;
    const out = floor(bareInstant, 0) > target ? ", out of reach by construction" : "";
    const thinking =
      bareThinking === undefined
        ? ""
        : `; with the thinking model, ${ratio(floor(bareThinking, THINK_MS))} of the bare ${ms(bareThinking)}`;
    lines.push(
      `N=8, ${LABEL[mode]}, by Node's CLI: ${how}, whatever Baton does; so no CLI started as a Node process can do better than ` +
        `${ratio(floor(bareInstant, 0))} of the bare ${ms(bareInstant)} with the instant model (target ≤ ` +
        `${target.toFixed(2)}x${out})${thinking}.`,
    );
  }
  return lines;
}
