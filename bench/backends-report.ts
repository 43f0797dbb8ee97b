import type { Subject } from "./backends-bare.ts";
import type { BareTiming, LibraryTiming } from "./backends-runs.ts";
import { median, ms, ratio, type Section } from "./common.ts";
import { mib } from "./idle-memory.ts";

const TARGET = 1.1;

/** What (k) measured of one backend. */
export interface Figures {
  readonly bare: BareTiming[];
  readonly lib: LibraryTiming[];
  readonly bareKb: number[];
  readonly libKb: number[];
}

const table = (columns: readonly string[], body: readonly (readonly string[])[]) =>
  [
    `| ${columns.join(" | ")} |`,
    `|${columns.map(() => "---").join("|")}|`,
    ...body.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");

/** The median of the defined values, as ms; a dash when there are none. */
function medianMs(values: readonly (number | undefined)[]): string {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length ? ms(median(known)) : "–";
}

export function report(
  subjects: readonly Subject[],
  figures: ReadonlyMap<string, Figures>,
  reps: number,
  memoryReps: number,
): Section {
  const rows: string[][] = [];
  const targets = [];
  const memoryRows: string[][] = [];
  const phaseRows: string[][] = [];
  const misses: string[] = [];
  for (const { name } of subjects) {
    const f = figures.get(name)!;
    const bareMs = median(f.bare.map((b) => b.ms));
    const libMs = median(f.lib.map((l) => l.ms));
    const r = libMs / bareMs;
    rows.push(
      [`bare ${name} (baseline)`, ms(bareMs), f.bare.map((b) => b.ms.toFixed(0)).join(", "), "1.00x", "", ""],
      [
        `Baton library, ${name} worker`,
        ms(libMs),
        f.lib.map((l) => l.ms.toFixed(0)).join(", "),
        ratio(r),
        `≤ ${TARGET.toFixed(2)}x`,
        r <= TARGET ? "PASS" : "MISS",
      ],
    );
    if (r > TARGET) misses.push(extraTime(name, f, bareMs, libMs));
    targets.push({
      name: `(k) spawn-to-result, ${name} worker vs bare ${name}`,
      figure: ratio(r),
      target: `≤ ${TARGET.toFixed(2)}x`,
      pass: r <= TARGET,
    });
    phaseRows.push([
      name,
      medianMs(f.bare.map((b) => b.agentStartMs)),
      medianMs(f.bare.map((b) => b.agentEndMs)),
      ms(bareMs),
      medianMs(f.lib.map((l) => l.startedMs)),
      medianMs(f.lib.map((l) => l.agentStartMs)),
      medianMs(f.lib.map((l) => l.agentEndMs)),
      medianMs(f.lib.map((l) => l.endedMs)),
      ms(libMs),
    ]);
    const bareKb = median(f.bareKb);
    const libKb = median(f.libKb);
    memoryRows.push([
      name,
      mib(bareKb),
      mib(libKb),
      `${((libKb - bareKb) / 1024).toFixed(1)} MiB`,
      ratio(libKb / bareKb),
    ]);
  }
  return {
    title: "(k) Each backend: spawn to result, and memory per worker",
    about: about(reps, memoryReps),
    columns: ["path", "median", "runs (ms)", "ratio vs bare", "target", "result"],
    rows,
    targets,
    notes: [
      `Where the time goes, in ms from the spawn (medians, each column's on its own, so they need not add up). ` +
        `Bare: the command fixture's own start and end (it prints the time as it starts, and just before its ` +
        `answer; a dash for the other agents, which print no such time), and the pipe's close. Library: the worker's \`started\` event (its agent's process spawned: the ` +
        `client's request, admission, the store's files, the launch plan, the sandbox's arguments, the terminal or ` +
        `pipes), the fixture's own start and end inside the sandbox, the \`state\` event of its end (the agent ` +
        `exited, the leftovers of its session looked for, its outcome read, its TMPDIR removed, the end recorded), ` +
        `and \`result\` back in the caller (\`wait\` woken by that event, then \`result\`):\n\n${table(
          [
            "backend",
            "bare: agent's start",
            "agent's end",
            "pipe closed",
            "library: started",
            "agent's start",
            "agent's end",
            "ended (state)",
            "result",
          ],
          phaseRows,
        )}`,
      ...misses,
      `Memory per worker (RSS of its process tree while its model stalls):\n\n${table(
        ["backend", "bare agent", "Baton worker", "difference", "ratio"],
        memoryRows,
      )}`,
      `The machine is shared with other sessions' builds and tests: see the load figures below, and the spread of the runs.`,
    ],
  };
}

function about(reps: number, memoryReps: number): string[] {
  return [
    `Reproduce with \`npm run bench -- backends\`. One reader worker of each backend: codex; claude = Claude Code ` +
      `and gemini = Gemini CLI; acp:opencode = opencode 1.18.33 (\`opencode acp\`) over the Agent Client Protocol; ` +
      `command = \`bench/fixtures/answer-agent.sh\`, a shell script that prints when it started, reads its ` +
      `prompt and prints \`done: <task>\` as its last paragraph (no model: it stands for the smallest agent there is). ` +
      `The agent CLIs are the pinned devDependencies, found as the tests find them, each against a scripted model ` +
      `server on loopback (\`dist/scripted-model\`: Responses for codex, Messages for Claude Code, Gemini API for ` +
      `the Gemini CLI, Chat Completions for opencode, named to it by \`OPENCODE_CONFIG_CONTENT\` as in ` +
      `\`test/acp-opencode.test.ts\`) that answers \`done: <task>\`; every answer is checked.`,
    `Bare: the backend's own \`launch()\` plan from \`dist/backend/\` for a reader's spec (the same file, args and ` +
      `environment Baton gives the agent: \`CLI FLAGS...\` with the prompt file as its standard input, opened by the ` +
      `benchmark (no shell), for the terminal agents and the fixture, \`opencode acp\` with the preset's environment and a new home of its own for ` +
      `acp:opencode, as each worker gets; a fresh TMPDIR), with the same prompt (worker preamble included), started ` +
      `with child_process in a session of its own, stdout on a pipe (stdin too for ACP; stderr discarded), ` +
      `without Baton's sandbox (bubblewrap), PTY, supervisor or store; timed from spawn to the pipe's close; its answer read by the backend's own parser and ` +
      `outcome. ACP runs over pipes, so the bare acp:opencode run is driven by the plan's own \`converse\`: Baton's ` +
      `ACP client (\`dist/backend/acp-client.js\` on \`@agentclientprotocol/sdk\`: \`initialize\`, \`session/new\`, ` +
      `one \`session/prompt\`, permission requests answered from the scope, every message handed to the parser as ` +
      `a transcript line), then its stdin closed once the turn is over, as Baton's pipes runner does, and the ` +
      `clock stops when opencode has exited; so the baseline includes the ACP client and leaves out what Baton ` +
      `adds around it (supervisor, queue, store, transcript file, sandbox, watchdogs). The plan is made (the ` +
      `Gemini CLI's settings and policy, opencode's home and config written) before the clock starts. Library: ` +
      `\`baton.spawn({ task, backend })\` (with \`agentCommand\` for the fixture) → \`wait([id])\` → \`result(id)\` ` +
      `on an open Baton (supervisor warm), confined by Baton's sandbox as every worker is by default. One ` +
      `warm-up each, then ${reps} runs interleaved (codex bare, codex library, claude bare, ...); medians.`,
    `Memory: a worker whose model stalls (headers sent, then silence; the fixture sleeps instead), sampled 1.5 s ` +
      `after its model request arrived (the fixture's \`sleep\` started): the summed VmRSS of every process of the ` +
      `worker (those carrying its \`BATON_WORKER_ID\`: bubblewrap, the agent and ` +
      `its children) against the same sum over the bare agent's process group; median of 5 samples 200 ms apart, ` +
      `then the median over ${memoryReps} runs of each. A sum of RSS counts a page shared by two processes twice. ` +
      `The supervisor's own memory per worker is in (c), not here.`,
  ];
}

/** The median over the runs where every value is known; undefined when none is. */
function medianOf<T>(runs: readonly T[], value: (run: T) => number | undefined): number | undefined {
  const known = runs.map(value).filter((v): v is number => v !== undefined);
  return known.length ? median(known) : undefined;
}

const at = (v: number | undefined) => (v === undefined ? "?" : ms(v));
const minus = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a - b;

/** Where the library's extra time goes, for a backend that missed its target (medians of each run's phases). */
function extraTime(name: string, f: Figures, bareMs: number, libMs: number): string {
  const toStarted = medianOf(f.lib, (l) => l.startedMs);
  const toCaller = medianOf(f.lib, (l) => l.ms - l.endedMs);
  const head =
    `**${name} misses its target**: its bare run takes ${ms(bareMs)}, and Baton adds ${ms(libMs - bareMs)} ` +
    `(medians), its fixed cost per worker: ${at(toStarted)} from \`spawn\` to the agent's ` +
    `process (the client's request over the socket, admission, the store's files, the launch plan, the sandbox's ` +
    `arguments, the terminal)`;
  const tail = `, and ${at(toCaller)} from the recorded end back to the caller (\`wait\` woken by the event, then \`result\`).`;
  const bareStart = medianOf(f.bare, (b) => b.agentStartMs);
  if (bareStart === undefined) {
    const run = medianOf(f.lib, (l) => l.endedMs - l.startedMs);
    return `${head}, ${at(run)} from there to its recorded end (bare, the whole run: ${ms(bareMs)})${tail}`;
  }
  const libStart = medianOf(f.lib, (l) => minus(l.agentStartMs, l.startedMs));
  const libWork = medianOf(f.lib, (l) => minus(l.agentEndMs, l.agentStartMs));
  const bareWork = medianOf(f.bare, (b) => minus(b.agentEndMs, b.agentStartMs));
  const libEnd = medianOf(f.lib, (l) => minus(l.endedMs, l.agentEndMs));
  const bareEnd = medianOf(f.bare, (b) => minus(b.ms, b.agentEndMs));
  return (
    `${head}, ${at(libStart)} from there to the fixture's first line (bubblewrap builds the sandbox, then the ` +
    `shell and the fixture start in a terminal; bare, spawn to first line: ${at(bareStart)}), ${at(libWork)} of ` +
    `the fixture's own work (bare: ${at(bareWork)}), ${at(libEnd)} from its last line to its recorded end (its ` +
    `exit seen through the terminal, the leftovers of its session looked for in /proc, its outcome read, its ` +
    `TMPDIR removed, the end recorded; bare, last line to the pipe's close: ${at(bareEnd)})${tail} ` +
    `Against the other agents, which take a quarter of a second or more, the same cost is what their rows show.`
  );
}
