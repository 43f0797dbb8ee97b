import { backendNamed, threadHere } from "../backend/registry.js";
import { BatonError } from "../errors.js";
import type { ResumeParams } from "../protocol/messages.js";
import { readStoreFileSync } from "../store/no-follow.js";
import type { Store } from "../store/store.js";
import { RESUME_PROMPT } from "../worker/prompt.js";
import type { Scheduler } from "./scheduling.js";
import { WORKER_ENV } from "./worker-env.js";
import type { Entry, WorkerTable } from "./worker-table.js";

/** What `baton resume` did with each worker. */
export interface ResumeOutcome {
  readonly id: string;
  /**
   * "thread": continued in its own recorded thread; "rerun": run again from its prompt, as no thread
   * was recorded, or the agent's session files do not hold it with its task (cut off as it began).
   */
  readonly how: "thread" | "rerun";
  readonly threadId: string | undefined;
  /** A rerun's recorded thread that cannot be continued here (its session files lack it or its task). */
  readonly uncontinued?: string;
  /** A follow-up whose own text its thread never took in (cut off as it came): sent in the thread again. */
  readonly resent?: true;
}

/**
 * Queues lost workers again: each continues in its own recorded thread when there is one (its attempt
 * sends a short "continue" prompt), else runs again from the start. Default: every lost worker.
 */
export async function resumeLost(
  params: ResumeParams,
  context: { readonly store: Store; readonly table: WorkerTable; readonly scheduler: Scheduler },
): Promise<ResumeOutcome[]> {
  const { store, table, scheduler } = context;
  if (params.env[WORKER_ENV.id]) {
    throw new BatonError("nested", "workers cannot resume workers: report back to the orchestrator instead");
  }
  // A worker named twice is resumed once.
  const targets = params.ids?.length
    ? [...new Set(params.ids)].map((id) => table.get(id))
    : table.all().filter((e) => e.status.state === "lost" && !e.result);
  for (const entry of targets) {
    if (entry.status.state !== "lost" || entry.result) {
      throw new BatonError(
        "usage",
        `worker ${entry.spec.id} is ${entry.status.state}, not lost: only workers whose supervisor died can be resumed`,
      );
    }
  }
  // Every target is claimed (queued) before the first await: a resume racing this one (another
  // terminal, another call in the same tick) finds them no longer lost, so each starts once.
  // How each goes on is decided for all of them first: nothing is moved if one of these throws.
  const decided = targets.map((entry) => ({ entry, ...continuable(entry, store, params.env) }));
  const claimed = decided.map((decision) => {
    const before = decision.entry.status;
    table.move(decision.entry, {
      state: "queued",
      pid: undefined,
      endedAt: undefined,
      reason: undefined,
      resumes: before.resumes + 1,
    });
    return { ...decision, before };
  });
  const outcomes: ResumeOutcome[] = [];
  for (const [index, { entry, threadId, uncontinued, resent }] of claimed.entries()) {
    const { id } = entry.spec;
    try {
      if (threadId && !resent) await store.writeText(id, "resume.txt", RESUME_PROMPT);
    } catch (error) {
      // The ones not queued yet are lost again, as they were; the ones queued run.
      for (const rest of claimed.slice(index)) {
        if (rest.entry.status.state === "queued") table.move(rest.entry, rest.before);
      }
      scheduler.pump();
      throw error;
    }
    entry.env = params.env;
    entry.resumeFrom = { threadId, ...(resent ? { resend: true } : {}) };
    entry.halt = new AbortController();
    scheduler.enqueue(id);
    outcomes.push({
      id,
      how: threadId ? "thread" : "rerun",
      threadId,
      ...(uncontinued ? { uncontinued } : {}),
      ...(resent ? { resent } : {}),
    });
  }
  scheduler.pump();
  return outcomes;
}

/**
 * The recorded thread, if the worker's agent can go on in it here: one it can continue, whose session
 * files (looked for with the caller's environment, which the resumed agent gets) hold its task, and a
 * follow-up's own text, else that text is sent in it again (`resent`); else the thread that cannot be,
 * if that is why it runs again.
 */
function continuable(
  entry: Entry,
  store: Store,
  env: Readonly<Record<string, string>>,
): { threadId?: string; uncontinued?: string; resent?: true } {
  const { spec, status } = entry;
  const backend = backendNamed(spec.backend);
  const recorded = status.threadId;
  if (!recorded || !backend.canResume) return {};
  const followUp = spec.continues || spec.inThread ? followUpText(store, spec.id) : undefined;
  const how = threadHere(backend, recorded, env, store.home, followUp, spec.threadMessages);
  if (!how) return { uncontinued: recorded };
  return how === "resend" ? { threadId: recorded, resent: true } : { threadId: recorded };
}

/** A follow-up's own text as it was sent (its prompt.txt); unknown if the store cannot give it. */
function followUpText(store: Store, id: string): string | undefined {
  try {
    return readStoreFileSync(store.home, store.file(id, "prompt.txt"));
  } catch {
    return undefined; // its attempt reads the same file, and fails on it with the reason
  }
}
