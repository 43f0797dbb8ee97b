import type { Queue } from "bullmq";
import type { Store } from "../store/store.js";
import type { Entry } from "../supervisor/worker-table.js";
import type { GitFiles } from "./git-remote.js";
import { WIRE_VERSION, type WorkerJob, type WorkerRequest } from "./wire.js";

/** The backends whose program is the worker's own (`--cmd`, `--agent-cmd`), not an agent a host finds. */
const OWN_PROGRAM = new Set(["command", "acp"]);

/**
 * A worker's job: its spawn as the coordinator admitted it (the rendered prompt, scope, limits, answer
 * schema), never the caller's environment. An agent's binary is left out (a host finds its own); the
 * program of a command or acp worker is part of what it is, so it goes, as the command line it was.
 */
export async function dispatchOf(
  entry: Entry,
  store: Store,
  workspace: string,
  files?: GitFiles,
): Promise<WorkerJob> {
  const { spec } = entry;
  const prompt = await store.readText(spec.id, "prompt.txt");
  const schemaText = spec.outputSchema ? await store.readText(spec.id, "output-schema.json") : undefined;
  const outputSchema = schemaText ? (JSON.parse(schemaText) as Record<string, unknown>) : undefined;
  const request: WorkerRequest = {
    task: spec.task,
    ...(prompt ? { prompt } : {}),
    ...(spec.label ? { label: spec.label } : {}),
    ...(spec.role ? { role: spec.role } : {}),
    ...(spec.scope.kind === "write" ? { write: [...spec.scope.paths] } : { readOnly: true }),
    cwd: spec.cwd,
    ...(spec.model ? { model: spec.model } : {}),
    timeoutSeconds: spec.timeoutSeconds,
    idleTimeoutSeconds: spec.idleTimeoutSeconds,
    ...(spec.maxTokens !== undefined ? { maxTokens: spec.maxTokens } : {}),
    retries: spec.retries,
    backend: spec.backend,
    // A follow-up: its host continues the parent's thread (the parent ran on some host, not there).
    ...(spec.continues && entry.status.threadId ? { inThread: entry.status.threadId } : {}),
    ...(OWN_PROGRAM.has(spec.backend)
      ? { agentCommand: commandLine([spec.bin, ...(spec.agentArgs ?? [])]) }
      : {}),
    // Where its worktree starts: the commit its spawn recorded (a follow-up's: its parent's change).
    ...(spec.isolate ? { isolate: true, ...(spec.baseCommit ? { isolateFrom: spec.baseCommit } : {}) } : {}),
    // Asked for by the caller (a writer is never unconfined otherwise); a reader's is the host's call.
    ...(spec.confinement === "unconfined" && spec.scope.kind === "write" ? { unconfined: true } : {}),
    ...(outputSchema ? { outputSchema } : {}),
    ...(spec.search !== undefined ? { search: spec.search } : {}),
  };
  return { v: WIRE_VERSION, workspace, worker: spec.id, request, ...(files ? { files } : {}) };
}

/** argv as a command line that `splitCommandLine` (src/backend/argv.ts) splits back into the same words. */
export function commandLine(argv: readonly string[]): string {
  return argv
    .map((word) => (/^[A-Za-z0-9_/.,:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`))
    .join(" ");
}

/** Removes a job while no host has taken it; true if it was removed. */
export async function removeWaiting(queue: Queue, jobId: string): Promise<boolean> {
  const job = await queue.getJob(jobId);
  if (!job) return false;
  const state = await job.getState();
  if (state !== "waiting" && state !== "delayed" && state !== "prioritized") return false;
  try {
    await job.remove();
    return true;
  } catch {
    return false; // a host took it meanwhile
  }
}

/** Where a job stands for its coordinator: ended (and how), still open, or gone from Redis. */
export type JobStanding =
  | { readonly kind: "completed"; readonly returnvalue: unknown }
  | { readonly kind: "failed"; readonly reason: string }
  | { readonly kind: "open" }
  | { readonly kind: "gone" };

/**
 * Where job `jobId` stands. Its state is read before its fields: a job read while it ran and found
 * completed a moment later would otherwise seem to have ended with no return value. Completing sets
 * the return value and the state in one step, so once the state says so, the value is there.
 */
export async function jobStanding(
  queue: Pick<Queue, "getJobState" | "getJob">,
  jobId: string,
): Promise<JobStanding> {
  const state = await queue.getJobState(jobId);
  if (state === "unknown") return { kind: "gone" };
  if (state !== "completed" && state !== "failed") return { kind: "open" };
  const job = await queue.getJob(jobId);
  if (!job) return { kind: "gone" };
  return state === "completed"
    ? { kind: "completed", returnvalue: job.returnvalue }
    : { kind: "failed", reason: job.failedReason || "the job failed" };
}
