import { statSync } from "node:fs";
import { resolve } from "node:path";
import { agentCommand } from "../backend/argv.js";
import type { Backend } from "../backend/backend.js";
import { backendNamed, threadMessagesHere } from "../backend/registry.js";
import { confiner, INSTALL_HINT, isWithin, writeRoots } from "../confine/index.js";
import { usdText } from "../cost/cost.js";
import type { Pricing } from "../cost/pricing.js";
import { BatonError } from "../errors.js";
import {
  DEFAULT_IDLE_TIMEOUT_SECONDS,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_SECONDS,
  type SpawnParams,
} from "../protocol/messages.js";
import type { Store } from "../store/store.js";
import { WORKER_PREAMBLE, workerPrompt } from "../worker/prompt.js";
import type { Scope, WorkerSpec, WorkerStatus } from "../worker/types.js";
import type { Budgets } from "./budgets.js";
import { type Clock, isoNow } from "./clock.js";
import { followUp } from "./follow-up.js";
import { isolationBase } from "./isolation.js";
import type { Scheduler } from "./scheduling.js";
import { WORKER_ENV } from "./worker-env.js";
import { blankStatus, type WorkerTable } from "./worker-table.js";
import { realScopePath } from "./writer-lock.js";

/** What admission checks a spawn against. */
export interface AdmissionContext {
  readonly store: Store;
  readonly table: WorkerTable;
  readonly scheduler: Scheduler;
  readonly budgets: Budgets;
  readonly clock: Clock;
  readonly pricing: Pricing;
  /** Workers run on this machine (no queue): a follow-up's thread must be found here. */
  readonly threadsHere: boolean;
}

/** A spawn that passed every check: the new worker's files, and the caller's environment. */
export interface Admitted {
  readonly spec: WorkerSpec;
  readonly status: WorkerStatus;
  readonly prompt: string;
  readonly outputSchema: unknown;
  readonly env: Record<string, string>;
  /** Lets go of its paths once its files are written (it then holds them as a worker of the table). */
  readonly release: () => void;
  /** A thread its first attempt continues (`resumeThread`: a host taking over a lost worker). */
  readonly resumeFrom?: { readonly threadId: string };
}

/**
 * Checks a spawn and makes its worker: no worker spawns workers; the cwd is a folder; the scope is
 * read-only or names its paths (real paths, for the writer lock and the sandbox); the sandbox can hold
 * a writer; a `--no-wait` writer finds its paths free; the run is within its budget; a follow-up
 * continues an ended worker's thread. Each refusal is one line that says what to do.
 */
export async function admit(request: SpawnParams, context: AdmissionContext): Promise<Admitted> {
  const { table, scheduler, budgets, clock, pricing } = context;
  if (request.env[WORKER_ENV.id]) {
    throw new BatonError(
      "nested",
      `workers cannot spawn workers (this is worker ${request.env[WORKER_ENV.id]}): report back to the orchestrator instead`,
    );
  }
  const { params, threadId, parentChange } = followUp(
    table,
    request,
    context.threadsHere ? context.store.home : undefined,
  );
  if (params.cwd === undefined)
    throw new BatonError("usage", "spawn: cwd: give the agent's working directory");
  const cwd = resolve(params.cwd);
  if (!isDirectory(cwd))
    throw new BatonError("usage", `--cwd ${cwd} is not a folder: give an existing folder`);
  if (params.readOnly && params.write?.length) {
    throw new BatonError("usage", "--read-only and --write exclude each other: choose one");
  }
  const backend = backendNamed(params.backend ?? "codex");
  // Counted before the follow-up is sent: a resume tells by it whether the thread took the text in.
  const threadMessages =
    threadId && context.threadsHere
      ? threadMessagesHere(backend, threadId, params.env, context.store.home)
      : undefined;
  if (params.resumeThread && (params.continues || !backend.canResume))
    throw new BatonError(
      "usage",
      params.continues
        ? "resumeThread and continues exclude each other: a follow-up continues its parent's thread"
        : `${backend.name} cannot continue a thread: run it again from its prompt`,
    );
  // --cmd / --agent-cmd: its program is found as a binary is; a follow-up keeps its parent's arguments.
  const command = agentCommand(params.agentCommand, backend.name);
  const agentArgs =
    command?.args ?? (params.continues ? table.get(params.continues).spec.agentArgs : undefined);
  const bin = backend.locate({ explicitBin: command?.program ?? params.bin, env: params.env, cwd });
  // The user's prices, read again if changed: a price file that is wrong refuses the spawn, naming its line.
  await pricing.refresh();
  checkPriced(params, backend, pricing);
  if (params.maxParallel !== undefined) scheduler.maxParallel = params.maxParallel;
  const scope = scopeOf(params, cwd);
  const confinement = confinementFor(context.store, params, scope);
  let baseCommit: string | undefined;
  if (params.isolate) {
    if (scope.kind !== "write") {
      throw new BatonError("usage", "--isolate is for writers: add --write PATH or --role implementer");
    }
    const recorded = params.isolateFrom
      ? {
          commit: params.isolateFrom,
          of: "the commit this writer's spawn started from",
          otherwise:
            "run hosts on the coordinator's repository (a shared folder), or give the queue a git remote",
        }
      : undefined;
    baseCommit = await isolationBase(cwd, parentChange ?? recorded);
  }
  if (params.noWait && !params.isolate) {
    const holder = scheduler.holderOf(scope);
    if (holder) {
      throw new BatonError(
        "busy",
        `worker ${holder.id} holds ${holder.path} for writing: wait for it (drop --no-wait) or write other paths`,
      );
    }
  }
  if (params.group) {
    budgets.setRun(params.group.id, params.group);
    const over = budgets.runOver(params.group.id);
    if (over) {
      const used =
        over.unit === "usd"
          ? `has cost ${usdText(over.used)} of its ${usdText(over.limit)}`
          : `has used ${over.used} of its ${over.limit} tokens`;
      throw new BatonError(
        "budget",
        `run ${params.group.id} ${used}: raise its budget to start more workers`,
      );
    }
  }
  // Research looks things up: the agent's web search is on unless turned off.
  const search = params.search ?? (params.role === "research" ? true : undefined);
  const id = table.nextId();
  const spec: WorkerSpec = {
    id,
    label: params.label,
    role: params.role,
    scope,
    cwd,
    model: params.model,
    timeoutSeconds: params.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    idleTimeoutSeconds: params.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS,
    maxTokens: params.maxTokens,
    ...(params.maxCostUsd !== undefined ? { maxCostUsd: params.maxCostUsd } : {}),
    retries: params.retries ?? DEFAULT_RETRIES,
    group: params.group
      ? {
          id: params.group.id,
          maxTokens: params.group.maxTokens,
          ...(params.group.maxCostUsd !== undefined ? { maxCostUsd: params.group.maxCostUsd } : {}),
        }
      : undefined,
    backend: backend.name,
    bin,
    task: params.task,
    outputSchema: params.outputSchema !== undefined,
    isolate: params.isolate === true,
    ...(baseCommit ? { baseCommit } : {}),
    confinement,
    createdAt: isoNow(clock),
    ...(params.continues ? { continues: params.continues } : {}),
    ...(params.inThread ? { inThread: params.inThread } : {}),
    ...(threadMessages !== undefined ? { threadMessages } : {}),
    ...(search === undefined ? {} : { search }),
    ...(agentArgs ? { agentArgs } : {}),
  };
  // A follow-up's thread is its own from the start: it continues it, and its result names it.
  // It starts from what its thread had cost (Claude Code counts a resumed session's earlier turns).
  const threadUsd = params.continues ? table.find(params.continues)?.status.threadUsd : undefined;
  const status = {
    ...blankStatus(id, "queued", clock),
    threadId: threadId ?? params.resumeThread,
    ...(threadUsd !== undefined ? { threadUsd } : {}),
  };
  // A follow-up is a new message in a thread that has its brief already: it goes as it was given.
  const prompt = threadId
    ? (params.prompt ?? params.task)
    : params.prompt?.startsWith(WORKER_PREAMBLE)
      ? params.prompt
      : params.prompt
        ? `${WORKER_PREAMBLE}\n${params.prompt}`
        : workerPrompt(params.task, scope);
  // No await since the --no-wait check: its paths are held from the same tick.
  const release = scheduler.hold(spec);
  const resumeFrom = params.resumeThread ? { resumeFrom: { threadId: params.resumeThread } } : {};
  return { spec, status, prompt, outputSchema: params.outputSchema, env: params.env, release, ...resumeFrom };
}

/**
 * A dollar budget needs a price, or it would be no limit at all: the agent's own figure (Claude Code),
 * else a price for the model it will run (`--model`, else the backend's default) in the user's tables
 * or Baton's. Refused in one line that says what to give.
 */
function checkPriced(params: SpawnParams, backend: Backend, pricing: Pricing): void {
  const flag =
    params.maxCostUsd !== undefined
      ? "--max-cost"
      : params.group?.maxCostUsd !== undefined
        ? "--run-max-cost"
        : undefined;
  if (flag === undefined || backend.reportsCost) return;
  if (backend.reportsUsage === false) {
    throw new BatonError(
      "usage",
      `${flag} needs a price, and a ${backend.name} worker reports no tokens to price: drop ${flag}, and bound it with --timeout instead`,
    );
  }
  const model = params.model ?? backend.defaultModel?.(params.env);
  if (model === undefined) {
    throw new BatonError(
      "usage",
      `${flag} needs a price, and which model this ${backend.name} worker will run is not known before it starts: give --model, or set the model in the agent's config`,
    );
  }
  if (pricing.unpriced(model) !== undefined) {
    throw new BatonError(
      "usage",
      `${flag} needs a price, and model "${model}" has none: give --model with a priced model, or add "${model}" to .baton/prices.yaml (see docs/backends.md § Dollars)`,
    );
  }
}

/**
 * Whether Baton's own sandbox will hold the worker. A writer is refused where it cannot (unless the
 * caller said `unconfined`); a reader then runs in the agent's own read-only sandbox alone. No
 * `--write` may reach into the run store.
 */
function confinementFor(store: Store, params: SpawnParams, scope: Scope): WorkerSpec["confinement"] {
  const home = realScopePath(store.home);
  // An isolated writer's paths are taken into its own worktree, away from the shared checkout.
  for (const path of params.isolate ? [] : (params.write ?? [])) {
    const real = realScopePath(path, params.cwd);
    if (writeRoots([real])[0] === "/") {
      throw new BatonError(
        "usage",
        real === "/"
          ? `--write ${path}: Baton lets no worker write in / itself: name a folder below it`
          : `--write ${path}: its nearest existing folder is /, and Baton lets no worker write in / itself: make the folder it goes in first, or name a path in a folder below /`,
      );
    }
    if (isWithin(home, real) || isWithin(real, home)) {
      throw new BatonError(
        "usage",
        `--write ${path} ${real === home || isWithin(home, real) ? "contains" : "is inside"} the run store ${home}: no worker may write it; name the files or folders to change instead`,
      );
    }
  }
  if (params.unconfined) return "unconfined";
  const confined = confiner();
  if (confined.ok) return "baton";
  if (scope.kind === "write") {
    throw new BatonError("usage", `cannot confine a writer here: ${confined.why}: ${INSTALL_HINT}`);
  }
  return "unconfined";
}

/** The worker's scope, its paths real (see realScopePath): the writer lock and the sandbox rely on it. */
function scopeOf(params: SpawnParams, cwd: string): Scope {
  if (params.write?.length) return { kind: "write", paths: params.write.map((p) => realScopePath(p, cwd)) };
  if (!params.readOnly && params.role === "implementer")
    return { kind: "write", paths: [realScopePath(cwd)] };
  return { kind: "read-only" };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
