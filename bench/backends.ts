import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentEvent, Backend } from "../dist/backend/backend.js";
import { claudeBackend } from "../dist/backend/claude.js";
import { codexBackend } from "../dist/backend/codex.js";
import { geminiBackend } from "../dist/backend/gemini.js";
import { Baton, workerPrompt } from "../dist/index.js";
import {
  directiveScript,
  type ModelRequest,
  message,
  modelScriptLine,
  startScriptedGemini,
  startScriptedMessages,
} from "../dist/scripted-model/index.js";
import type { WorkerSpec } from "../dist/worker/types.js";
import { CLAUDE_BIN } from "../test/support/claude.ts";
import { GEMINI_BIN } from "../test/support/gemini.ts";
import {
  CODEX_BIN,
  expect,
  expectedAnswer,
  log,
  median,
  ms,
  now,
  ratio,
  type Section,
  sleep,
  type Workspace,
} from "./common.ts";
import { memoryKb, mib } from "./idle-memory.ts";

const TARGET = 1.1;
const TASK_LINE = /^TASK: (.*)$/m;
const answerTask = (request: ModelRequest) =>
  message(expectedAnswer(TASK_LINE.exec(request.userText)?.[1] ?? "?"));

interface Subject {
  readonly name: string;
  readonly backend: Backend;
  readonly bin: string;
  /** The requests its model server has received (to know when a stalled worker is waiting). */
  readonly requests: () => readonly ModelRequest[];
}

/** A reader's spec, as the supervisor makes one for `spawn({ task, backend })`. */
function specFor(subject: Subject, ws: Workspace, id: string, task: string): WorkerSpec {
  return {
    id,
    label: undefined,
    role: undefined,
    scope: { kind: "read-only" },
    cwd: ws.dir,
    model: undefined,
    timeoutSeconds: 3600,
    idleTimeoutSeconds: 600,
    maxTokens: undefined,
    retries: 2,
    group: undefined,
    backend: subject.name,
    bin: subject.bin,
    task,
    outputSchema: false,
    isolate: false,
    confinement: "unconfined",
    createdAt: new Date().toISOString(),
  } as WorkerSpec;
}

interface BareRun {
  readonly pid: number;
  readonly done: Promise<{ ms: number; ok: boolean; answer: string; code: number | null }>;
}

let bareCount = 0;

/**
 * The CLI as Baton's backend launches it: its own `launch()` plan (file, args, env) for a reader's spec,
 * run with child_process in a session of its own, stdout on a pipe, without Baton's sandbox or PTY. The
 * answer is read by the backend's own parser and outcome, as Baton reads a worker's.
 */
function startBare(subject: Subject, ws: Workspace, root: string, task: string): BareRun {
  const n = ++bareCount;
  const dir = join(root, "bare", `${subject.name}-${n}`);
  const tmpDir = join(dir, "tmp");
  const stateDir = join(root, "bare-agents", subject.name);
  mkdirSync(tmpDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const promptFile = join(dir, "prompt.txt");
  writeFileSync(promptFile, workerPrompt(task, { kind: "read-only" }));
  const lastMessageFile = join(tmpDir, "last-message.txt");
  const plan = subject.backend.launch(specFor(subject, ws, `bare${n}`, task), {
    promptFile,
    lastMessageFile,
    outputSchemaFile: undefined,
    tmpDir,
    writeRoots: [],
    hidden: [ws.home],
    agentStateDir: stateDir,
  });
  const env = { ...ws.env, ...plan.env, TMPDIR: tmpDir };
  for (const home of subject.backend.agentHomes(env)) mkdirSync(home, { recursive: true, mode: 0o700 });
  const start = now();
  const child = spawn(plan.file, plan.args, {
    cwd: ws.dir,
    env,
    stdio: ["ignore", "pipe", "ignore"],
    detached: true,
  });
  const parser = subject.backend.parser();
  const events: AgentEvent[] = [];
  let pending = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) events.push(...parser.line(line.replace(/\r$/, "")));
  });
  const done = new Promise<number | null>((resolvePromise, reject) => {
    child.once("error", reject);
    child.once("close", resolvePromise);
  }).then((code) => {
    const elapsed = now() - start;
    if (pending) events.push(...parser.line(pending));
    events.push(...(parser.end?.() ?? []));
    const outcome = subject.backend.outcome({ events, exitCode: code ?? -1, lastMessageFile });
    return { ms: elapsed, ok: outcome.ok, answer: outcome.answer.trim(), code };
  });
  return { pid: child.pid!, done };
}

/** Pids of the live processes in process group `pgid`. */
function groupPids(pgid: number): number[] {
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

const treeKb = (pids: readonly number[]) =>
  pids.reduce((sum, pid) => {
    const rss = memoryKb(pid).rss;
    return sum + (Number.isFinite(rss) ? rss : 0);
  }, 0);

/** Waits for the model to have been asked by the run whose task has `marker`, then samples RSS. */
async function stalledRss(subject: Subject, marker: string, pids: () => number[]): Promise<number> {
  const start = now();
  while (!subject.requests().some((r) => r.userText.includes(marker))) {
    expect(now() - start < 60_000, `${subject.name} ${marker}: no model request after 60 s`);
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

async function bareTimed(subject: Subject, ws: Workspace, root: string, task: string): Promise<number> {
  const run = startBare(subject, ws, root, task);
  const result = await run.done;
  expect(
    result.ok && result.answer === expectedAnswer(task),
    `bare ${subject.name}: exit ${result.code}, ok ${result.ok}, answer ${result.answer}`,
  );
  await waitGroupGone(run.pid);
  return result.ms;
}

async function libraryTimed(subject: Subject, baton: Baton, task: string): Promise<number> {
  const t0 = now();
  const id = await baton.spawn({ task, backend: subject.name });
  await baton.wait([id]);
  const result = await baton.result(id);
  const elapsed = now() - t0;
  expect(
    result.state === "succeeded" && result.answer.trim() === expectedAnswer(task),
    `baton ${subject.name} ${id}: ${result.state}, answer ${result.answer}`,
  );
  return elapsed;
}

const stallTask = (name: string) => `${name}\n${modelScriptLine([{ type: "stall" }])}`;

async function bareMemory(subject: Subject, ws: Workspace, root: string, name: string): Promise<number> {
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

async function libraryMemory(subject: Subject, baton: Baton, name: string): Promise<number> {
  const id = await baton.spawn({ task: stallTask(name), backend: subject.name, retries: 0 });
  try {
    return await stalledRss(subject, `${name}\n`, () => workerPids(id));
  } finally {
    await baton.stop([id], { graceSeconds: 1 });
    for (let i = 0; i < 100 && workerPids(id).length > 0; i++) await sleep(50);
  }
}

interface Figures {
  readonly bare: number[];
  readonly lib: number[];
  readonly bareKb: number[];
  readonly libKb: number[];
}

/**
 * (k) One worker of each agent CLI (codex, claude, gemini): spawn to result through the library against
 * the same CLI run bare, and the memory of one worker's processes against the bare CLI's.
 * `codexModel` is the run's scripted Responses server (its requests), already in `ws.env`.
 */
export async function backends(
  ws: Workspace,
  root: string,
  codexModel: { readonly requests: readonly ModelRequest[] },
  reps = 7,
  memoryReps = 3,
): Promise<Section> {
  const messages = await startScriptedMessages({ script: directiveScript(answerTask) });
  const gemini = await startScriptedGemini({ script: directiveScript(answerTask) });
  // The workers' environment is the spawning client's: this client's adds the two servers and binaries.
  const env = {
    ...ws.env,
    ...messages.env(),
    ...gemini.env(),
    BATON_CLAUDE_BIN: CLAUDE_BIN,
    BATON_GEMINI_BIN: GEMINI_BIN,
  };
  const wsx: Workspace = { ...ws, env };
  const baton = await Baton.open({ home: ws.home, cwd: ws.dir, env });
  const subjects: Subject[] = [
    { name: "codex", backend: codexBackend, bin: CODEX_BIN, requests: () => codexModel.requests },
    { name: "claude", backend: claudeBackend, bin: CLAUDE_BIN, requests: () => messages.requests },
    { name: "gemini", backend: geminiBackend, bin: GEMINI_BIN, requests: () => gemini.requests },
  ];
  const figures = new Map<string, Figures>(
    subjects.map((s) => [s.name, { bare: [], lib: [], bareKb: [], libKb: [] }]),
  );
  try {
    for (let rep = 0; rep <= reps; rep++) {
      for (const subject of subjects) {
        const f = figures.get(subject.name)!;
        const b = await bareTimed(subject, wsx, root, `backends ${subject.name} bare ${rep}`);
        const l = await libraryTimed(subject, baton, `backends ${subject.name} library ${rep}`);
        log(
          `(k) ${subject.name} ${rep === 0 ? "warm-up" : `rep ${rep}/${reps}`}: bare ${ms(b)}, library ${ms(l)}`,
        );
        if (rep === 0) continue;
        f.bare.push(b);
        f.lib.push(l);
      }
    }
    for (let rep = 0; rep < memoryReps; rep++) {
      for (const subject of subjects) {
        const f = figures.get(subject.name)!;
        const b = await bareMemory(subject, wsx, root, `backends-mem ${subject.name} bare ${rep}`);
        const l = await libraryMemory(subject, baton, `backends-mem ${subject.name} library ${rep}`);
        log(`(k) ${subject.name} memory ${rep + 1}/${memoryReps}: bare ${mib(b)}, worker ${mib(l)}`);
        f.bareKb.push(b);
        f.libKb.push(l);
      }
    }
  } finally {
    baton.close();
    await messages.close();
    await gemini.close();
  }

  const rows: string[][] = [];
  const targets = [];
  const memoryRows: string[][] = [];
  for (const subject of subjects) {
    const f = figures.get(subject.name)!;
    const bareMs = median(f.bare);
    const libMs = median(f.lib);
    const r = libMs / bareMs;
    rows.push(
      [
        `bare ${subject.name} (baseline)`,
        ms(bareMs),
        f.bare.map((v) => v.toFixed(0)).join(", "),
        "1.00x",
        "",
        "",
      ],
      [
        `Baton library, ${subject.name} worker`,
        ms(libMs),
        f.lib.map((v) => v.toFixed(0)).join(", "),
        ratio(r),
        `≤ ${TARGET.toFixed(2)}x`,
        r <= TARGET ? "PASS" : "MISS",
      ],
    );
    targets.push({
      name: `(k) spawn-to-result, ${subject.name} worker vs bare ${subject.name}`,
      figure: ratio(r),
      target: `≤ ${TARGET.toFixed(2)}x`,
      pass: r <= TARGET,
    });
    const bareKb = median(f.bareKb);
    const libKb = median(f.libKb);
    memoryRows.push([
      subject.name,
      mib(bareKb),
      mib(libKb),
      `${((libKb - bareKb) / 1024).toFixed(1)} MiB`,
      ratio(libKb / bareKb),
    ]);
  }
  const table = (columns: string[], body: string[][]) =>
    [
      `| ${columns.join(" | ")} |`,
      `|${columns.map(() => "---").join("|")}|`,
      ...body.map((row) => `| ${row.join(" | ")} |`),
    ].join("\n");

  return {
    title: "(k) Each backend: spawn to result, and memory per worker",
    about: [
      `Reproduce with \`npm run bench -- backends\`. One reader worker of each agent CLI (codex; claude = ` +
        `Claude Code and gemini = Gemini CLI, both the pinned devDependencies, found as the tests find them), ` +
        `each against a scripted model server on loopback ` +
        `(\`dist/scripted-model\`: Responses for codex, Messages for Claude Code, Gemini API for the Gemini CLI) ` +
        `that answers \`done: <task>\`; every answer is checked. The acp and command backends, registered too, are not measured here yet.`,
      `Bare: the backend's own \`launch()\` plan from \`dist/backend/<name>.js\` for a reader's spec (the same ` +
        `file, args and environment Baton gives the agent: \`/bin/sh -c 'exec "$@" < "$0"' PROMPT CLI FLAGS...\`, ` +
        `the plan's variables and a fresh TMPDIR), with the same prompt (worker preamble included), started with ` +
        `child_process in a session of its own, stdout on a pipe, without Baton's sandbox (bubblewrap) or PTY; ` +
        `timed from spawn to the pipe's close; its answer read by the backend's own parser and outcome. The ` +
        `plan is made (the Gemini CLI's settings and policy written) before the clock starts. Library: ` +
        `\`baton.spawn({ task, backend })\` → \`wait([id])\` → \`result(id)\` on an open Baton (supervisor warm), ` +
        `confined by Baton's sandbox as every worker is by default. One warm-up each, then ${reps} runs ` +
        `interleaved (codex bare, codex library, claude bare, ...); medians.`,
      `Memory: a worker whose model stalls (headers sent, then silence), sampled 1.5 s after its model request ` +
        `arrived: the summed VmRSS of every process of the worker (those carrying its \`BATON_WORKER_ID\`: ` +
        `bubblewrap, the shell that execs the CLI, the CLI and its children) against the same sum over the bare ` +
        `CLI's process group; median of 5 samples 200 ms apart, then the median over ${memoryReps} runs of each. ` +
        `A sum of RSS counts a page shared by two processes twice. The supervisor's own memory per worker is in (c), not here.`,
    ],
    columns: ["path", "median", "runs (ms)", "ratio vs bare", "target", "result"],
    rows,
    targets,
    notes: [
      `Memory per worker (RSS of its process tree while its model stalls):\n\n${table(
        ["backend", "bare CLI", "Baton worker", "difference", "ratio"],
        memoryRows,
      )}`,
      `The machine is shared with other sessions' builds and tests: see the load figures below, and the spread of the runs.`,
    ],
  };
}
