import { randomBytes } from "node:crypto";
import type { Queue, QueueEvents, QueueEventsProducer, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { AttemptContext } from "../supervisor/attempts.js";
import { endedWithout } from "../supervisor/results.js";
import type { WorkerRunner } from "../supervisor/runner.js";
import type { Entry } from "../supervisor/worker-table.js";
import type { WorkerResult } from "../worker/types.js";
import type { QueueConfig } from "./config.js";
import { dispatchOf, jobStanding, removeWaiting } from "./dispatch.js";
import { type GitFiles, landChange, pushBase } from "./git-remote.js";
import { epochKey, jobIdOf, queueNames } from "./names.js";
import { Placements } from "./placements.js";
import { bullmq, connectRedis, shownUrl } from "./redis.js";
import { settle } from "./remote-result.js";
import { RemoteRun } from "./remote-run.js";
import { type ControlEvent, hostUpdate } from "./wire.js";

/** How often followed jobs are checked against Redis, in case an event was missed (a reconnect). */
const RECONCILE_MS = 15_000;

/** A worker being followed: what its job needs to be dispatched again. */
interface Followed {
  readonly entry: Entry;
  readonly context: AttemptContext;
  readonly remote: RemoteRun;
  /** A dispatch or reconciliation under way: one at a time. */
  busy?: Promise<void>;
}

/**
 * A workspace's supervisor as a coordinator: a worker whose turn comes is put on the workspace's
 * BullMQ queue instead of started here; a host takes it, runs it under its own supervisor, and sends
 * back its transcript, thread and usage (the updates queue) and its result (the job's return value).
 * Everything else (the table, the store, the cap, the writer lock, run budgets) stays here.
 */
export class Coordinator implements WorkerRunner {
  /** By job id. */
  private readonly followed = new Map<string, Followed>();
  private updates: Worker | undefined;
  private reconciler: NodeJS.Timeout | undefined;
  private epoch = "";
  private closed = false;
  /** Commits already pushed to the git remote (the git-remote mode). */
  private readonly pushed = new Set<string>();

  private constructor(
    private readonly config: QueueConfig,
    private readonly redis: Redis[],
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly producer: QueueEventsProducer,
    private readonly placements: Placements,
    private readonly log: (line: string) => void,
  ) {}

  /** Connects to the workspace's queue (or fails in one line naming the URL). */
  static async open(config: QueueConfig, home: string, log: (line: string) => void): Promise<Coordinator> {
    const bull = await bullmq();
    const names = queueNames(config.workspace);
    const redis: Redis[] = [];
    try {
      for (const role of ["queue", "events", "control", "updates"]) {
        redis.push(await connectRedis(config.redis, `baton-coordinator-${role}`));
      }
    } catch (error) {
      for (const client of redis) client.disconnect();
      throw error;
    }
    const [queueRedis, eventsRedis, controlRedis] = redis as [Redis, Redis, Redis, Redis];
    const queue = new bull.Queue(names.jobs, { connection: queueRedis });
    const events = new bull.QueueEvents(names.jobs, { connection: eventsRedis });
    const producer = new bull.QueueEventsProducer(names.control, { connection: controlRedis });
    const placements = await Placements.load(home);
    const coordinator = new Coordinator(config, redis, queue, events, producer, placements, log);
    await coordinator.listen();
    return coordinator;
  }

  /** Every unfinished worker goes on: a queued one waits its turn, a dispatched one is followed. */
  adopts(entry: Entry): boolean {
    return entry.status.state === "queued" || this.placements.get(entry.spec.id) !== undefined;
  }

  /** Puts the worker on the queue (once per dispatch) and follows it to its result. */
  async run(entry: Entry, context: AttemptContext): Promise<WorkerResult> {
    const id = entry.spec.id;
    const again = entry.resumeFrom !== undefined; // `baton resume`: a new job for it
    entry.resumeFrom = undefined;
    entry.env = undefined; // a host runs it with its own environment: the caller's goes nowhere
    let placement = this.placements.get(id);
    if (!placement || again) {
      const dispatch = placement ? placement.dispatch + 1 : 0;
      placement = {
        job: jobIdOf(id, dispatch),
        dispatch,
        added: false,
        lostHosts: placement?.lostHosts ?? [],
      };
    }
    const remote = new RemoteRun(entry, placement.job, {
      context,
      placements: this.placements,
      workspace: this.config.workspace,
      control: (event) => this.control(event),
      removeWaiting: (job) => removeWaiting(this.queue, job),
      ...(this.config.gitRemote
        ? { landChange: (isolation) => landChange(this.config.gitRemote ?? "", entry.spec.cwd, isolation) }
        : {}),
    });
    // Registered before the first await: updates for it are routed from now on.
    const followed: Followed = { entry, context, remote };
    if (placement.host) entry.host = placement.host;
    this.followed.set(placement.job, followed);
    entry.run = remote;
    try {
      await this.placements.set(id, placement);
      await remote.open();
      // Before the check: a job that ended while no coordinator ran settles only once the transcript its
      // host sent has arrived, and that comes through the updates.
      this.startUpdates();
      await this.check(followed);
      return await remote.outcome;
    } catch (error) {
      const message = `cannot put it on the queue at ${shownUrl(this.config.redis)}: ${(error as Error).message}`;
      context.problems.add(`worker ${id}: ${message}`);
      return endedWithout(entry.spec, "failed", { kind: "spawn_failed", message }, context.clock);
    } finally {
      this.followed.delete(remote.job);
      if (entry.run === remote) entry.run = undefined;
      remote.close();
    }
  }

  /** Checks the worker's job in Redis, one check at a time. */
  private check(followed: Followed): Promise<void> {
    const next = (followed.busy ?? Promise.resolve()).then(() => this.dispatch(followed));
    followed.busy = next.catch(() => {});
    return next;
  }

  /**
   * Adds the worker's job unless Redis has it; settles it at once if it has ended. A job Redis was
   * given and no longer has was lost with Redis's data: reported, and the worker dispatched again.
   */
  private async dispatch(followed: Followed): Promise<void> {
    const { entry, remote, context } = followed;
    const id = entry.spec.id;
    let placement = this.placements.get(id);
    if (!placement) return;
    const standing = await jobStanding(this.queue, placement.job);
    if (standing.kind === "completed") return settle(remote, standing.returnvalue);
    if (standing.kind === "failed") return remote.fail(standing.reason);
    if (standing.kind === "open") return;
    if (placement.added) {
      context.problems.add(
        `worker ${id}: its job ${placement.job} is gone from Redis at ${shownUrl(this.config.redis)} (did Redis restart empty?): it runs again from its prompt`,
      );
      remote.hostLost();
      const dispatch = placement.dispatch + 1;
      placement = {
        ...this.placements.get(id),
        ...placement,
        job: jobIdOf(id, dispatch),
        dispatch,
        added: false,
      };
      this.followed.delete(remote.job);
      remote.job = placement.job;
      this.followed.set(placement.job, followed);
      await this.placements.set(id, placement);
    }
    const data = await dispatchOf(entry, context.store, this.config.workspace, await this.filesOf(entry));
    await this.queue.add("worker", data, {
      jobId: placement.job,
      attempts: 1,
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    await this.placements.set(id, { ...(this.placements.get(id) ?? placement), added: true });
  }

  /** In the git-remote mode, the commit the worker starts from, pushed to the remote. */
  private async filesOf(entry: Entry): Promise<GitFiles | undefined> {
    const remote = this.config.gitRemote;
    if (!remote) return undefined;
    const { spec } = entry;
    const paths = spec.scope.kind === "write" ? spec.scope.paths : [];
    // An --isolate writer starts from the commit its spawn recorded, as it would here.
    return pushBase(remote, this.config.workspace, spec.cwd, paths, this.pushed, spec.baseCommit);
  }

  private async listen(): Promise<void> {
    this.events.on("completed", ({ jobId, returnvalue }) => {
      const remote = this.followed.get(jobId)?.remote;
      if (remote) void settle(remote, returnvalue);
    });
    this.events.on("failed", ({ jobId, failedReason }) =>
      this.followed.get(jobId)?.remote.fail(failedReason),
    );
    this.events.on("stalled", ({ jobId }) => {
      const remote = this.followed.get(jobId)?.remote;
      if (!remote) return;
      this.log(`job ${jobId}: its host was lost (stalled): back on the queue`);
      remote.hostLost();
    });
    await this.events.waitUntilReady();
    await this.checkEpoch(true);
    const queueRedis = this.redis[0];
    queueRedis?.on("ready", () => void this.checkEpoch(false));
    this.reconciler = setInterval(() => void this.reconcile(), RECONCILE_MS);
    this.reconciler.unref();
  }

  /**
   * Redis's data has an epoch: a key this coordinator sets. Gone after a reconnect, Redis restarted
   * empty: every job it held is lost, which is reported and each worker dispatched again.
   */
  private async checkEpoch(first: boolean): Promise<void> {
    const client = this.redis[0];
    if (!client || this.closed) return;
    try {
      const key = epochKey(this.config.workspace);
      const now = await client.get(key);
      if (first || now === null) {
        if (now === null) await client.set(key, randomBytes(8).toString("hex"), "NX");
        const was = this.epoch;
        this.epoch = (await client.get(key)) ?? "";
        if (!first && was && now === null) {
          this.log(`Redis at ${shownUrl(this.config.redis)} restarted empty: its jobs are gone`);
          await this.reconcile();
        }
      }
    } catch (error) {
      this.log(`cannot check Redis's epoch: ${(error as Error).message}`);
    }
  }

  /** Each followed job as Redis has it: ended ones settle, vanished ones are dispatched again. */
  private async reconcile(): Promise<void> {
    for (const followed of new Set(this.followed.values())) {
      await this.check(followed).catch((error: Error) => this.log(`cannot check a job: ${error.message}`));
    }
  }

  /** Starts taking the hosts' updates (after the workers found at start-up are followed). */
  private startUpdates(): void {
    if (this.updates || this.closed) return;
    const names = queueNames(this.config.workspace);
    void bullmq().then((bull) => {
      if (this.updates || this.closed) return;
      this.updates = new bull.Worker(
        names.updates,
        async (job) => {
          const parsed = hostUpdate.safeParse(job.data);
          if (!parsed.success || parsed.data.workspace !== this.config.workspace) return;
          const remote = this.followed.get(parsed.data.job)?.remote;
          if ((await remote?.apply(parsed.data)) === "gap") {
            throw new Error("transcript text before this update has not arrived yet");
          }
        },
        // A short lock: an update a killed coordinator had taken comes back within seconds, before the
        // updates after it (which wait for it, see the host's Reporter) run out of attempts.
        { connection: this.redis[3] as Redis, concurrency: 1, lockDuration: 4_000, stalledInterval: 2_000 },
      );
      this.updates.on("error", (error) => this.log(`updates: ${error.message}`));
    });
  }

  private async control(event: ControlEvent): Promise<void> {
    await this.producer.publishEvent(event);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconciler) clearInterval(this.reconciler);
    await Promise.allSettled([
      this.updates?.close(),
      this.events.close(),
      this.producer.close(),
      this.queue.close(),
    ]);
    for (const client of this.redis) client.disconnect();
  }

  /** For `ls`: the host running or that ran each worker on the queue. */
  hostOf(id: string): string | undefined {
    return this.placements.get(id)?.host;
  }
}
