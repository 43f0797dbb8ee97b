import { setImmediate as nextTurn } from "node:timers/promises";
import type { Backend } from "../backend/backend.js";
import { backendNamed } from "../backend/registry.js";
import type { Pricing } from "../cost/pricing.js";
import type { EventBus } from "../events/bus.js";
import type { OutputPulse } from "../events/pulse.js";
import type { Store } from "../store/store.js";
import type { Usage, WorkerResult, WorkerSpec, WorkerStatus } from "../worker/types.js";
import type { Budgets } from "./budgets.js";
import { type Clock, isoNow, sleep } from "./clock.js";
import { collectWorktree, createWorktree, inWorktree, type Worktree } from "./isolation.js";
import type { Problems } from "./problems.js";
import { endedWithout, STOPPED } from "./results.js";
import type { Attempt } from "./run-spend.js";
import { type StartDone, StartPriority } from "./start-priority.js";
import { markerOf, markerValue, WORKER_ENV } from "./worker-env.js";
import { WorkerRun } from "./worker-run.js";
import type { Entry, WorkerTable } from "./worker-table.js";

/** Milliseconds to wait before retry `n` (1-based): 1 s, 2 s, 4 s, ... capped at 30 s. */
export const retryDelayMs = (n: number): number => Math.min(30, 2 ** (n - 1)) * 1000;

/** What a worker's attempts work with. */
export interface AttemptContext {
  readonly store: Store;
  readonly table: WorkerTable;
  readonly budgets: Budgets;
  readonly problems: Problems;
  readonly events: EventBus;
  readonly pulse: OutputPulse;
  readonly clock: Clock;
  /** Names this workspace's workers in their processes' marker. */
  readonly storeKey: string;
  /** Between Ctrl+C and SIGTERM, and SIGTERM and SIGKILL, when Baton stops an agent. */
  readonly graceMs: number;
  /** How long to wait before retry `n`. @default retryDelayMs */
  readonly backoff: (retry: number) => number;
  /** Prices workers' tokens: the user's tables, looked at again as each attempt starts. */
  readonly pricing: Pricing;
}

/**
 * Lowers the sessions of workers that start in a burst, and gives their priority back after it: one
 * for the process, as the CPU is the machine's. Made at the first start, when the supervisor has
 * refused a bad BATON_WORKER_NICE already.
 */
let startPriority: StartPriority | undefined;
const starts = () => (startPriority ??= new StartPriority());

/**
 * One worker from its start to the result to record: in its own worktree when isolated (its change
 * comes back as a commit on its branch), with the caller's environment for its agent only.
 */
export async function runWorker(entry: Entry, context: AttemptContext): Promise<WorkerResult> {
  const started = starts().begin();
  try {
    return await run(entry, context, started);
  } finally {
    started();
  }
}

async function run(entry: Entry, context: AttemptContext, started: StartDone): Promise<WorkerResult> {
  const { spec } = entry;
  const { store, clock } = context;
  // Whoever queued it hears back first: starting an agent holds the event loop for a millisecond or
  // two (its terminal's fork), and a spawn's reply, or the next spawn's, need not wait for that.
  await nextTurn();
  let worktree: Worktree | undefined;
  let runSpec = spec;
  if (spec.isolate) {
    try {
      worktree = await createWorktree(
        store.home,
        spec.id,
        context.storeKey,
        spec.cwd,
        spec.baseCommit,
        entry.resumeFrom !== undefined,
      );
      runSpec = inWorktree(spec, worktree);
    } catch (error) {
      return endedWithout(spec, "failed", { kind: "spawn_failed", message: errorText(error) }, clock);
    }
  }
  if (entry.halt.signal.aborted) return endedWithout(spec, "canceled", STOPPED, clock);
  const env: Record<string, string> = {
    ...entry.env,
    [WORKER_ENV.id]: spec.id,
    [WORKER_ENV.marker]: markerValue(context.storeKey, spec.id),
    BATON_HOME: store.home,
    TERM: "xterm-256color",
  };
  entry.env = undefined; // secrets stay in memory only as long as needed
  let result = await attempts(entry, runSpec, env, context, started);
  if (worktree) {
    try {
      const message = `baton ${spec.id}: ${spec.label ?? spec.task.split("\n")[0]?.slice(0, 60)}`;
      result = { ...result, isolation: await collectWorktree(worktree, message) };
    } catch (error) {
      context.problems.add(
        `worker ${spec.id}: could not collect its worktree ${worktree.path}: ${errorText(error)}`,
      );
    }
  }
  return result;
}

/**
 * Runs the worker's agent until it ends for good: a transient failure (model 5xx, a model that never
 * answers) is run again after a backoff, up to `spec.retries` times, unless the attempt already
 * changed files, the worker crossed a budget, or it was stopped. A resumed worker's first attempt
 * continues its recorded thread.
 */
async function attempts(
  entry: Entry,
  runSpec: WorkerSpec,
  env: Record<string, string>,
  context: AttemptContext,
  firstStart: StartDone,
): Promise<WorkerResult> {
  const { spec } = entry;
  const { store, table, events, clock } = context;
  const backend = backendNamed(spec.backend);
  const resumeFrom = entry.resumeFrom;
  entry.resumeFrom = undefined;
  const spending = (prior: Spent, resumes: boolean) => ({
    priorUsage: prior.usage,
    ...(prior.cost ? { priorCost: prior.cost } : {}),
    // Only a thread continued carries the agent's earlier figure for it.
    ...(resumes && prior.threadUsd !== undefined ? { threadUsd: prior.threadUsd } : {}),
    ...modelOf(spec, backend, env),
    price: (usage: Usage, model: string | undefined) =>
      backend.reportsUsage === false ? NO_TOKENS : context.pricing.price(usage, model),
  });
  let attempt = freshAttempt(entry, spending);
  let note: string | undefined;
  let transcriptBytes = 0;
  if (resumeFrom) {
    transcriptBytes = await store.transcriptSize(spec.id);
    if (resumeFrom.threadId) {
      attempt = {
        ...spending(entry.status, true),
        resumeThreadId: resumeFrom.threadId,
        threadId: resumeFrom.threadId,
        // A follow-up's text the thread never took in goes again; else the agent is told to go on.
        ...(resumeFrom.resend ? {} : { promptFile: store.file(spec.id, "resume.txt") }),
      };
      note = resumeFrom.resend
        ? `resumed in its own thread ${resumeFrom.threadId}: its follow-up had not reached the thread, so it is sent again`
        : `resumed in its own thread ${resumeFrom.threadId}`;
    } else
      note =
        "resumed: no thread to continue (none was recorded, or it was cut off before it held its task), so it runs again from the start";
  }
  let retries = entry.status.retries;
  let firstStarting: StartDone | undefined = firstStart;
  for (;;) {
    await context.pricing
      .refresh()
      .catch((error: Error) =>
        context.problems.add(`prices: ${error.message} (the prices read before stand)`),
      );
    const run: WorkerRun = new WorkerRun(
      store,
      runSpec,
      backend,
      env,
      markerOf(context.storeKey, spec.id),
      {
        output: () => {
          entry.output.ring();
          context.pulse.grew(spec.id, run.transcriptBytes);
        },
        progress: () => {
          table.move(entry, { threadId: run.threadId, usage: run.usage, ...run.spend.recorded() });
          context.budgets.enforce(entry, run);
        },
      },
      transcriptBytes,
      context.graceMs,
      attempt,
      clock,
    );
    entry.run = run;
    // A retry's start is its launch alone: it counts in a burst that is still starting, if any.
    const started = firstStarting ?? starts().begin();
    firstStarting = undefined;
    await run.start();
    started(run.agent);
    if (run.pid) events.emit({ type: "started", worker: spec.id, pid: run.pid, attempt: retries + 1 });
    if (note) run.note(note);
    table.move(entry, {
      pid: run.pid || undefined,
      startedAt: entry.status.startedAt ?? new Date(run.startedAt).toISOString(),
    });
    const result = await run.ended;
    if (run.storeError) context.problems.add(`worker ${spec.id}: ${run.storeError}`);
    transcriptBytes = run.transcriptBytes;
    const retry =
      run.transient !== undefined &&
      retries < spec.retries &&
      !entry.halt.signal.aborted &&
      !run.changedFiles &&
      context.budgets.over(entry, run) === undefined;
    if (!retry) return { ...result, retries, resumes: entry.status.resumes };
    retries += 1;
    note = `retry ${retries} of ${spec.retries} after a transient failure: ${run.transient}`;
    table.move(entry, { retries, usage: result.usage, threadId: result.threadId, ...spentOf(result) });
    events.emit({ type: "retry", worker: spec.id, retry: retries, reason: run.transient ?? "" });
    await store
      .appendEvent(spec.id, { at: isoNow(clock), type: "retry", retry: retries, reason: run.transient })
      .catch(() => {});
    entry.run = undefined;
    // A stop ends the wait at once, and the worker with it.
    await sleep(clock, context.backoff(retries), entry.halt.signal);
    if (entry.halt.signal.aborted) {
      return {
        ...endedWithout(spec, "canceled", STOPPED, clock),
        usage: result.usage,
        threadId: result.threadId,
        ...spentOf(result),
        retries,
        resumes: entry.status.resumes,
      };
    }
    attempt = freshAttempt(entry, spending, result);
  }
}

/** What a worker has used and spent so far: its status's, or its last attempt's result. */
type Spent = Pick<WorkerStatus, "usage" | "cost" | "threadUsd">;

/** How an attempt starts afresh: a follow-up's in its thread (with its own prompt), others anew. */
function freshAttempt(
  entry: Entry,
  spending: (prior: Spent, resumes: boolean) => Attempt,
  prior: Spent = entry.status,
): Attempt {
  const threadId = entry.spec.continues || entry.spec.inThread ? entry.status.threadId : undefined;
  // A retry in the thread starts from the thread's total as the last attempt left it.
  const spent = { ...prior, threadUsd: prior.threadUsd ?? entry.status.threadUsd };
  return threadId ? { ...spending(spent, true), resumeThreadId: threadId, threadId } : spending(spent, false);
}

/** The model the agent is asked for: the spec's, else the one the backend runs by default. */
function modelOf(spec: WorkerSpec, backend: Backend, env: Record<string, string>): { model?: string } {
  const model = spec.model ?? backend.defaultModel?.(env);
  return model ? { model } : {};
}

/** The model and dollars a result records, for the status. */
function spentOf(result: WorkerResult): Pick<WorkerStatus, "model" | "cost" | "threadUsd"> {
  return { model: result.model, cost: result.cost, threadUsd: result.threadUsd };
}

function errorText(error: unknown): string {
  return (error as Error)?.message?.split("\n")[0] ?? String(error);
}

/** The cost of a worker whose agent reports no tokens: not known, and never $0. */
const NO_TOKENS = {
  usd: undefined,
  source: "unpriced",
  why: "its agent reports no tokens, so what it cost is not known",
} as const;
