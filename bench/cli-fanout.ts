import {
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
  verdict,
  type Workspace,
} from "./common.ts";
import { bareRuns } from "./fanout.ts";

/** Targets of the issue for 8 workers: one call each, and one call for all. */
const TARGET_EACH = 1.15;
const TARGET_ALL = 1.05;

/** What this build of the CLI offers: several tasks in one spawn, several answers in one result. */
async function features(ws: Workspace): Promise<{ manyTasks: boolean; resultMany: boolean }> {
  const spawnHelp = await runCli(ws, ["spawn", "--help"]);
  const resultHelp = await runCli(ws, ["result", "--help"]);
  return { manyTasks: /--task\b/.test(spawnHelp), resultMany: /\bids\.\.\./.test(resultHelp) };
}

/**
 * The agent's path through the shell, timed from the first command to the last answer printed:
 * `each`: one `baton spawn TASK` per worker, one after the other, then `baton wait`, then one
 * `baton result ID` per worker; `all`: one `baton spawn --task ... --task ...`, `baton wait`, and
 * `baton result ID...` (or one `result` per worker if this build takes one id).
 */
async function throughCli(
  ws: Workspace,
  tasks: readonly string[],
  mode: "each" | "all",
  resultMany: boolean,
): Promise<number> {
  const start = now();
  let ids: string[];
  if (mode === "each") {
    ids = [];
    for (const task of tasks) ids.push((await runCli(ws, ["spawn", task])).trim());
  } else {
    const out = await runCli(ws, ["spawn", ...tasks.flatMap((task) => ["--task", task])]);
    ids = out.trim().split("\n");
  }
  await runCli(ws, ["wait", ...ids]);
  if (mode === "all" && resultMany) await runCli(ws, ["result", ...ids]);
  else {
    for (const [i, id] of ids.entries()) {
      const answer = await runCli(ws, ["result", id]);
      expect(answer.trim() === expectedAnswer(tasks[i]!), `baton result ${id}: ${answer}`);
    }
  }
  const elapsed = now() - start;
  expect(ids.length === tasks.length, `spawned ${ids.length} of ${tasks.length}`);
  for (const [i, id] of ids.entries()) {
    const result = await ws.baton.result(id);
    expect(result.answer === expectedAnswer(tasks[i]!), `${id}: ${result.state}, answer ${result.answer}`);
  }
  return elapsed;
}

/** (i) N workers started from the shell with the CLI, against N bare codex runs under `xargs -P N`. */
export async function cliFanout(ws: Workspace, plan: readonly [n: number, reps: number][]): Promise<Section> {
  await ws.baton.configure(64);
  const { manyTasks, resultMany } = await features(ws);
  const modes: ("each" | "all")[] = manyTasks ? ["each", "all"] : ["each"];
  const rows: string[][] = [];
  const targets: Target[] = [];
  const left = { bare: new Leftovers(), baton: new Leftovers() };
  for (const [n, reps] of plan) {
    const bares: number[] = [];
    const clis: Record<string, number[]> = { each: [], all: [] };
    for (let rep = 1; rep <= reps; rep++) {
      const tasks = (kind: string) =>
        Array.from({ length: n }, (_, i) => `cli ${kind} n${n} rep${rep} #${i}`);
      bares.push(await bareRuns(ws, tasks("bare"), `cli-n${n}-rep${rep}`));
      await left.bare.settle(ws);
      for (const mode of modes) {
        clis[mode]!.push(await throughCli(ws, tasks(mode), mode, resultMany));
        await left.baton.settle(ws);
      }
      log(
        `(i) N=${n} rep ${rep}/${reps}: bare ${ms(bares.at(-1)!)}, ${modes.map((m) => `${m} ${ms(clis[m]!.at(-1)!)}`).join(", ")}`,
      );
    }
    for (const mode of modes) {
      const r = median(clis[mode]!) / median(bares);
      const target = mode === "each" ? TARGET_EACH : TARGET_ALL;
      const label = mode === "each" ? "one spawn per worker" : "one spawn for all";
      rows.push([
        String(n),
        label,
        `${ms(median(bares))} (${bares.map((v) => v.toFixed(0)).join(", ")})`,
        `${ms(median(clis[mode]!))} (${clis[mode]!.map((v) => v.toFixed(0)).join(", ")})`,
        ratio(r),
        n === 8 ? `≤ ${target.toFixed(2)}x` : "",
        n === 8 ? verdict(r <= target) : "",
      ]);
      if (n === 8) {
        targets.push({
          name: `(i) N=8 through the CLI, ${label}, vs xargs -P`,
          figure: ratio(r),
          target: `≤ ${target.toFixed(2)}x`,
          pass: r <= target,
        });
      }
    }
  }
  return {
    title: "(i) N workers through the CLI, as an agent drives them from its shell",
    about: [
      "Baseline: N bare `codex exec` runs under `xargs -P N`, as in (b). Baton: the commands an agent runs " +
        "from its shell, each a new `node dist/cli/main.js` process, one after the other: " +
        "`baton spawn TASK` once per worker (or, one spawn for all, `baton spawn --task T1 --task T2 ...`), " +
        "then `baton wait ID...`, then `baton result ID` once per worker" +
        (resultMany ? " (one spawn for all: one `baton result ID...` for all)" : "") +
        "; timed from the first command to the last answer printed. Max parallel 64. Every answer is " +
        "checked (through the library, outside the timing). Runs alternate bare, then Baton; medians " +
        "(individual runs in parentheses).",
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
    rows,
    targets,
    notes: [
      manyTasks
        ? "This build's `baton spawn` takes several `--task`s: both forms were measured."
        : "This build's `baton spawn` takes one task a call: only one spawn per worker was measured.",
      `Leftovers: ${left.bare.describe("bare")}; ${left.baton.describe("Baton")}.`,
    ],
  };
}
