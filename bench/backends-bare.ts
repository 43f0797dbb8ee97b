import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentEvent, Backend, LaunchPlan } from "../dist/backend/backend.js";
import type { Converse } from "../dist/backend/pipes.js";
import { workerPrompt } from "../dist/index.js";
import type { WorkerSpec } from "../dist/worker/types.js";
import { now, type Workspace } from "./common.ts";

/** One backend as (k) measures it. */
export interface Subject {
  /** The backend's name, as `baton.spawn({ backend })` takes it. */
  readonly name: string;
  readonly backend: Backend;
  readonly bin: string;
  /** What `baton.spawn` needs besides the task and backend (the command backend's `agentCommand`). */
  readonly spawn?: { readonly agentCommand?: string };
  /**
   * Whether the stalled run whose task has `marker`, with these processes, is now waiting on its model
   * (the model server got its request; for a fixture, its `sleep` runs).
   */
  waiting(marker: string, pids: readonly number[]): boolean;
}

/** How a bare run ended: its time from spawn to the close of its stdout, and its answer as Baton reads it. */
export interface BareEnd {
  readonly ms: number;
  /** When it was spawned (the clock's start), as `now()` tells time. */
  readonly spawnedAt: number;
  readonly ok: boolean;
  readonly answer: string;
  readonly code: number | null;
  /** Everything its parser read, for figures of the agent's own (the command fixture's start). */
  readonly lines: readonly string[];
}

export interface BareRun {
  readonly pid: number;
  readonly done: Promise<BareEnd>;
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

/** How long an ACP agent gets to exit once its stdin is closed, as Baton's pipes runner gives it. */
const EXIT_AFTER_DONE_MS = 3000;

let bareCount = 0;

/**
 * The agent as Baton's backend launches it: its own `launch()` plan (file, args, env) for a reader's
 * spec, run with child_process in a session of its own, stdout on a pipe, without Baton's sandbox,
 * PTY, supervisor or store. A terminal agent gets the plan's prompt file as its standard input, opened
 * here (no shell, no launcher); an ACP agent (a plan with a `converse`) is driven by that conversation, Baton's own ACP
 * client, on its stdin and stdout, and its stdin closed when the turn is over. Either way the answer is
 * read by the backend's own parser and outcome, as Baton reads a worker's.
 */
export function startBare(subject: Subject, ws: Workspace, root: string, task: string): BareRun {
  const n = ++bareCount;
  const dir = join(root, "bare", `${subject.name.replace(":", "-")}-${n}`);
  const tmpDir = join(dir, "tmp");
  const stateDir = join(root, "bare-agents", subject.name);
  mkdirSync(tmpDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const promptFile = join(dir, "prompt.txt");
  writeFileSync(promptFile, workerPrompt(task, { kind: "read-only" }));
  const lastMessageFile = join(tmpDir, "last-message.txt");
  const plan: LaunchPlan = subject.backend.launch(specFor(subject, ws, `bare${n}`, task), {
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
  const parser = subject.backend.parser();
  const events: AgentEvent[] = [];
  const lines: string[] = [];
  const read = (line: string) => {
    lines.push(line);
    events.push(...parser.line(line));
  };
  const input = plan.stdin === undefined ? undefined : openSync(plan.stdin, "r");
  const start = now();
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(plan.file, plan.args, {
      cwd: ws.dir,
      env,
      stdio: [plan.converse ? "pipe" : (input ?? "ignore"), "pipe", "ignore"],
      detached: true,
    });
  } finally {
    if (input !== undefined) closeSync(input);
  }
  let pending = "";
  if (plan.converse) converse(plan.converse, child, read);
  else {
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const line of parts) read(line.replace(/\r$/, ""));
    });
  }
  const done = new Promise<number | null>((resolvePromise, reject) => {
    child.once("error", reject);
    child.once("close", resolvePromise);
  }).then((code) => {
    const elapsed = now() - start;
    if (pending) read(pending);
    events.push(...(parser.end?.() ?? []));
    const outcome = subject.backend.outcome({ events, exitCode: code ?? -1, lastMessageFile });
    return { ms: elapsed, spawnedAt: start, ok: outcome.ok, answer: outcome.answer.trim(), code, lines };
  });
  return { pid: child.pid!, done };
}

/** The plan's conversation on the agent's pipes; once it is over, the agent's stdin closes (it then exits). */
function converse(talk: Converse, child: ReturnType<typeof spawn>, read: (line: string) => void): void {
  const { stdin, stdout } = child;
  if (!stdin || !stdout) throw new Error("no pipes to the ACP agent");
  stdin.on("error", () => {});
  const conversation = talk({ stdin, stdout, record: read });
  void conversation.done.then(() => {
    stdin.end();
    // As Baton does: an agent still there a few seconds after its client hung up gets SIGTERM.
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {}
    }, EXIT_AFTER_DONE_MS);
    timer.unref();
    child.once("exit", () => clearTimeout(timer));
  });
}
