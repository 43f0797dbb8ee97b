import { z } from "zod";
import { spawnParams } from "../protocol/messages.js";
import { resultSchema } from "../store/schema.js";
import { THREAD_ID, type WorkerResult } from "../worker/types.js";
import { gitFiles } from "./git-remote.js";
import { WORKSPACE_KEY } from "./names.js";

// What crosses Redis between a coordinator and its hosts. Read back from Redis it is untrusted input
// (anyone holding the password can write it), so each side checks what it reads. No environment, no
// key, no secret is ever part of it: a host runs agents with its own.

/** Raised when what crosses Redis changes: a host refuses another version's jobs in one line. 2: `isolateFrom`. */
export const WIRE_VERSION = 2;

const workspace = z.string().regex(WORKSPACE_KEY, "must be a workspace key (24 hex digits)");
const workerId = z.string().regex(/^w[1-9][0-9]{0,8}$/);
const hostName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be a short host name");
const jobId = z.string().regex(/^w[1-9][0-9]{0,8}-d[0-9]{1,6}$/);
const usage = z.strictObject({
  inputTokens: z.number().int().min(0),
  cachedInputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  reasoningOutputTokens: z.number().int().min(0),
});

/** A worker as a host is given it: the spawn as the coordinator admitted it, less the caller's env. */
export const workerRequest = spawnParams.omit({
  env: true,
  bin: true,
  continues: true,
  maxParallel: true,
  noWait: true,
  group: true,
});
export type WorkerRequest = z.infer<typeof workerRequest>;

/** A job's data: which workspace and worker, and what to run. */
export const workerJob = z.strictObject({
  v: z.literal(WIRE_VERSION),
  workspace,
  worker: workerId,
  request: workerRequest,
  /** The git-remote files mode: the commit the host checks out (absent: the shared folder). */
  files: gitFiles.optional(),
});
export type WorkerJob = z.infer<typeof workerJob>;

/** A job's progress, as a host last set it: who runs it, and the agent thread, once known. */
export const jobProgress = z.strictObject({
  host: hostName,
  threadId: z.string().regex(THREAD_ID).optional(),
});
export type JobProgress = z.infer<typeof jobProgress>;

/**
 * What a host tells the coordinator while it runs a job (a job of the workspace's updates queue).
 * `run` names one host's run of the job: after a host is lost, the next host's run has another, and
 * what the lost one still had queued is dropped. Transcript text carries its offset in that run.
 */
export const hostUpdate = z.strictObject({
  v: z.literal(WIRE_VERSION),
  workspace,
  job: jobId,
  host: hostName,
  run: z.string().regex(/^[A-Za-z0-9._:-]{1,120}$/),
  started: z
    .strictObject({
      pid: z.number().int().min(0),
      attempt: z.number().int().min(1),
      resumed: z.enum(["thread", "rerun"]).optional(),
    })
    .optional(),
  transcript: z.strictObject({ offset: z.number().int().min(0), text: z.string() }).optional(),
  threadId: z.string().regex(THREAD_ID).optional(),
  usage: usage.optional(),
  retry: z.strictObject({ retry: z.number().int().min(1), reason: z.string().max(4_000) }).optional(),
});
export type HostUpdate = z.infer<typeof hostUpdate>;

/** A job's return value: the worker's result as its host recorded it. */
export const jobOutcome = z.strictObject({
  v: z.literal(WIRE_VERSION),
  host: hostName,
  run: z.string().regex(/^[A-Za-z0-9._:-]{1,120}$/),
  result: resultSchema,
  transcriptBytes: z.number().int().min(0),
  resumed: z.enum(["thread", "rerun"]).optional(),
});
export type JobOutcome = Omit<z.infer<typeof jobOutcome>, "result"> & { readonly result: WorkerResult };

/** Reads a job's return value; a string saying what is wrong when it is not one. */
export function readOutcome(value: unknown): JobOutcome | string {
  const parsed = jobOutcome.safeParse(value);
  // resultSchema is the store's own check of result.json; a result it passes is one the store reads.
  if (parsed.success) return parsed.data as JobOutcome;
  const issue = parsed.error.issues[0];
  return `its host returned something that is not a Baton result (${issue?.path.join(".") || "value"}: ${issue?.message ?? "malformed"})`;
}

/** What the coordinator asks of the host that holds a job (a custom event of the control queue). */
export const controlEvent = z.strictObject({
  eventName: z.enum(["stop", "interrupt", "send"]),
  workspace,
  job: jobId,
  // Redis streams carry strings: a number comes back as its digits.
  graceSeconds: z.coerce.number().min(0).max(3_600).optional(),
  text: z.string().max(1_048_576).optional(),
});
export type ControlEvent = z.infer<typeof controlEvent>;
