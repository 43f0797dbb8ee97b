import { StringDecoder } from "node:string_decoder";
import type { Job, Queue } from "bullmq";
import { backendNamed, threadHere } from "../backend/registry.js";
import { BatonError } from "../errors.js";
import type { BatonEvent } from "../events/types.js";
import { changeBranch, type GitFiles } from "../queue/git-remote.js";
import { type JobOutcome, jobProgress, WIRE_VERSION, type WorkerJob, workerJob } from "../queue/wire.js";
import type { Store } from "../store/store.js";
import type { Supervisor } from "../supervisor/supervisor.js";
import { isFinal } from "../worker/state.js";
import type { WorkerResult } from "../worker/types.js";
import { type Checkouts, inCheckout } from "./checkouts.js";
import { Reporter } from "./reporter.js";

/** Runs this host process has begun. */
let runsStarted = 0;

/** What a host's jobs share. */
export interface HostParts {
  readonly workspace: string;
  readonly host: string;
  readonly local: Supervisor;
  readonly store: Store;
  readonly updates: Queue;
  /** The environment its workers get: the host's own, less Baton's and Redis's variables. */
  readonly env: Record<string, string>;
  /** Local worker id of each job running here. */
  readonly running: Map<string, string>;
  readonly log: (line: string) => void;
  /** The git-remote mode's checkouts (a job with `files`). */
  readonly checkouts: Checkouts;
}

/** A job that must not be tried again: its data is not a worker of this host's workspace. */
export class RefusedJob extends Error {}

/**
 * One job on a host: its worker spawned under the host's own supervisor (confinement, watchdogs,
 * budgets, retries as for any worker), what it does sent to the coordinator as it happens, and its
 * result returned as the job's return value.
 */
export async function runJob(job: Job, parts: HostParts): Promise<JobOutcome> {
  const data = checked(job, parts.workspace);
  const jobId = job.id ?? "";
  // Taken over from a host that was lost: its thread goes on where this machine holds its session
  // files (the lost host's progress names the thread), else the worker runs again from its prompt.
  const takeover = job.stalledCounter > 0 || job.attemptsStarted > 1;
  const prior = jobProgress.safeParse(job.progress);
  const thread = takeover && prior.success ? prior.data.threadId : undefined;
  const followed = data.request.inThread;
  // A follow-up's text its thread never took in (cut off as it came) is sent in the thread again: its
  // request as it was. Else the agent is told to go on.
  const followUp = followed ? (data.request.prompt ?? data.request.task) : undefined;
  const how = thread === undefined ? undefined : threadOn(data.request.backend, thread, parts, followUp);
  const continues = how === "continue";
  const resumed = takeover ? (how ? ("thread" as const) : ("rerun" as const)) : undefined;
  if (followed && !threadOn(data.request.backend, followed, parts, undefined))
    throw new BatonError(
      "usage",
      `this follow-up continues thread ${followed}, whose session files are not on host ${parts.host}: run it where they are (a shared CODEX_HOME), or spawn a new worker`,
    );
  // Names this run of the job: a lost host's updates are told from its successor's by it.
  const run = `${parts.host}.${process.pid}.${Date.now().toString(36)}.${(runsStarted++).toString(36)}`;
  await job.updateProgress({ host: parts.host });
  const reporter = new Reporter(parts.updates, {
    workspace: parts.workspace,
    job: jobId,
    host: parts.host,
    run,
  });
  const since = parts.local.events.seq;
  const files = data.files;
  const checkout = files ? await parts.checkouts.take(files) : undefined;
  let spawned: { id: string };
  try {
    const request = files && checkout ? inCheckout(data.request, files, checkout) : data.request;
    // A thread taken over goes on with the "continue" prompt (a follow-up's too, once its text is in
    // the thread); a follow-up whose text is not goes as it was asked, in its thread.
    const { inThread: _, ...rest } = request;
    const inThread = continues ? { ...rest, resumeThread: thread } : request;
    spawned = await parts.local.spawn({ ...inThread, env: parts.env });
  } catch (error) {
    if (files) await parts.checkouts.release(files.commit);
    throw error;
  }
  const local = spawned.id;
  parts.running.set(jobId, local);
  parts.log(
    `job ${jobId}: worker ${data.worker} runs here as ${local}${takeover ? ` (taken over from ${prior.success ? prior.data.host : "a lost host"}: ${takenOver(how, thread)})` : ""}`,
  );
  const transcript = new TranscriptTail(parts.store, local);
  let first = true;
  try {
    for (let seq = since; ; ) {
      const batch = await parts.local.events.next(seq, { workers: [local], waitMs: 30_000 });
      seq = batch.next;
      let ended = false;
      for (const event of batch.events) {
        if (event.type === "output") reporter.soon({ transcript: await transcript.read(event.bytes) });
        else if (!report(event, reporter, first ? resumed : undefined)) {
          ended ||= event.type === "state" && isFinal(event.to);
          continue;
        }
        if (event.type === "started") first = false;
        if (event.type === "thread") await job.updateProgress({ host: parts.host, threadId: event.threadId });
      }
      if (ended) break;
    }
    const rest = await transcript.read(await parts.store.transcriptSize(local));
    if (rest.text) reporter.now({ transcript: rest });
    await reporter.close();
    if (reporter.failure)
      parts.log(`job ${jobId}: an update did not reach Redis: ${reporter.failure.message}`);
    const result = await parts.local.result(local);
    const isolation = files ? await changeOf(result.isolation, files, jobId, parts) : result.isolation;
    return {
      v: WIRE_VERSION,
      host: parts.host,
      run,
      result: { ...result, id: data.worker, ...(isolation ? { isolation } : {}) },
      transcriptBytes: transcript.sent,
      ...(resumed ? { resumed } : {}),
    };
  } finally {
    parts.running.delete(jobId);
    if (files) await parts.checkouts.release(files.commit).catch(() => {});
  }
}

/** A writer's change in the git-remote mode: pushed to the remote as its branch, which the coordinator fetches. */
async function changeOf(
  isolation: WorkerResult["isolation"],
  files: GitFiles,
  jobId: string,
  parts: HostParts,
): Promise<WorkerResult["isolation"]> {
  if (!isolation) return undefined;
  const branch = changeBranch(parts.workspace, jobId);
  if (isolation.commit) await parts.checkouts.push(files, isolation.commit, branch);
  return { ...isolation, branch, conflicts: [] };
}

/** How this host can go on in `thread` of a worker on `backend` (see `threadHere`), if it can. */
function threadOn(
  name: string | undefined,
  thread: string,
  parts: HostParts,
  followUp: string | undefined,
): "continue" | "resend" | undefined {
  try {
    const backend = backendNamed(name ?? "codex");
    if (backend.hasThread === undefined) return undefined;
    return threadHere(backend, thread, parts.env, parts.store.home, followUp);
  } catch {
    return undefined; // a backend this host does not know runs nothing anyway: its spawn says why
  }
}

/** What a host taking a lost worker over does with its thread, for its log. */
function takenOver(how: "continue" | "resend" | undefined, thread: string | undefined): string {
  if (how === "continue") return `its thread ${thread} goes on`;
  if (how === "resend") return `its follow-up had not reached its thread ${thread}: sent in it again`;
  return thread
    ? `its thread ${thread} is not on this machine: from its prompt again`
    : "no thread known: from its prompt again";
}

/** Passes one event of the local worker on; false when it is none to pass. */
function report(event: BatonEvent, reporter: Reporter, resumed: "thread" | "rerun" | undefined): boolean {
  switch (event.type) {
    case "started":
      reporter.now({ started: { pid: event.pid, attempt: event.attempt, ...(resumed ? { resumed } : {}) } });
      return true;
    case "thread":
      reporter.soon({ threadId: event.threadId });
      return true;
    case "usage":
      reporter.soon({ usage: event.usage });
      return true;
    case "retry":
      reporter.now({ retry: { retry: event.retry, reason: event.reason } });
      return true;
    default:
      return false;
  }
}

function checked(job: Job, workspace: string): WorkerJob {
  const version = (job.data as { v?: unknown } | null)?.v;
  if (typeof version === "number" && version !== WIRE_VERSION) {
    throw new RefusedJob(
      `job ${job.id} comes from a Baton of another version (its jobs are version ${version}, this host reads ${WIRE_VERSION}): run the same Baton version on the coordinator and its hosts`,
    );
  }
  const parsed = workerJob.safeParse(job.data);
  if (!parsed.success) {
    throw new RefusedJob(
      `job ${job.id} is not a Baton worker job: ${parsed.error.issues[0]?.message ?? "malformed"}`,
    );
  }
  if (parsed.data.workspace !== workspace) {
    throw new RefusedJob(`job ${job.id} belongs to workspace ${parsed.data.workspace}, not ${workspace}`);
  }
  return parsed.data;
}

/** The local transcript as text sent on: whole characters only, with the offset of each piece. */
class TranscriptTail {
  private read_ = 0;
  /** Bytes of text sent so far. */
  sent = 0;
  private readonly decoder = new StringDecoder("utf8");

  constructor(
    private readonly store: Store,
    private readonly id: string,
  ) {}

  async read(size: number): Promise<{ offset: number; text: string }> {
    const offset = this.sent;
    if (size <= this.read_) return { offset, text: "" };
    const bytes = await this.store.readTranscript(this.id, this.read_, size - this.read_);
    this.read_ += bytes.length;
    const text = this.decoder.write(bytes);
    this.sent += Buffer.byteLength(text);
    return { offset, text };
  }
}
