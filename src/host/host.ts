import net from "node:net";
import type { Job, Queue, QueueEvents, QueueEventsListener, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { BatonError, errnoOf } from "../errors.js";
import { queueNames } from "../queue/names.js";
import { bullmq, connectRedis, shownUrl } from "../queue/redis.js";
import { controlEvent } from "../queue/wire.js";
import { Store } from "../store/store.js";
import { endpointFor } from "../supervisor/endpoint.js";
import { Supervisor } from "../supervisor/supervisor.js";
import { Checkouts } from "./checkouts.js";
import { type HostParts, RefusedJob, runJob } from "./job-run.js";

/** How a host is started: `baton host`. */
export interface HostOptions {
  readonly redis: string;
  /** The workspace key (`baton config --redis` prints it): the host takes that workspace's jobs only. */
  readonly workspace: string;
  /** Workers it runs at once. @default 4 */
  readonly slots: number;
  /** How `ls` names it. */
  readonly name: string;
  /** Its own run store, where its supervisor keeps the workers it runs. */
  readonly home: string;
  /**
   * How long its lock on a job lasts without renewal: a host that dies is noticed within about twice
   * this (BullMQ's stalled check runs every half of it). @default 15000
   */
  readonly lockMs: number;
}

/** A running host; `close()` stops taking jobs and waits for those it runs. */
export interface Host {
  close(force?: boolean): Promise<void>;
}

/** The custom events of a workspace's control queue (see queue/wire.ts `controlEvent`). */
type ControlListener = QueueEventsListener &
  Record<"stop" | "interrupt" | "send", (args: Record<string, unknown>) => void>;

/** Variables a host's workers never get: Baton's own, and the Redis URL (it may hold the password). */
const WITHHELD = ["BATON_REDIS_URL", "BATON_HOME", "BATON_WORKER_ID"];

/**
 * Starts a host: its own supervisor in its own store (no other supervisor may run there meanwhile), a
 * BullMQ worker with `slots` concurrency on the workspace's queue, and an ear for stop requests.
 */
export async function startHost(options: HostOptions, log: (line: string) => void): Promise<Host> {
  const store = await Store.open(options.home);
  const lock = await holdLock(options.home);
  const local = await Supervisor.load(store, { maxParallel: options.slots });
  const bull = await bullmq();
  const names = queueNames(options.workspace);
  const redis: Redis[] = [];
  for (const role of ["jobs", "updates", "control"]) {
    redis.push(await connectRedis(options.redis, `baton-host-${options.name}-${role}`));
  }
  const [jobsRedis, updatesRedis, controlRedis] = redis as [Redis, Redis, Redis];
  const updates: Queue = new bull.Queue(names.updates, { connection: updatesRedis });
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      (pair): pair is [string, string] => pair[1] !== undefined && !WITHHELD.includes(pair[0]),
    ),
  );
  const parts: HostParts = {
    workspace: options.workspace,
    host: options.name,
    local,
    store,
    updates,
    env,
    running: new Map(),
    log,
    checkouts: new Checkouts(`${options.home}-files`),
  };
  const worker: Worker = new bull.Worker(
    names.jobs,
    async (job: Job) => {
      try {
        return await runJob(job, parts);
      } catch (error) {
        if (error instanceof RefusedJob || error instanceof BatonError) {
          log(`job ${job.id} refused: ${error.message}`);
          throw new bull.UnrecoverableError(error.message);
        }
        throw error;
      }
    },
    {
      connection: jobsRedis,
      concurrency: options.slots,
      lockDuration: options.lockMs,
      stalledInterval: Math.max(500, Math.floor(options.lockMs / 2)),
      maxStalledCount: 3,
      // How long an idle host waits on Redis before it looks for jobs again. A new job wakes one
      // waiting host at once; another host that was not woken sees the rest within this (BullMQ's
      // default, 5 s, left free slots idle that long while jobs waited).
      drainDelay: 1,
      name: options.name,
    },
  );
  worker.on("error", (error) => log(`queue: ${error.message}`));
  // A job whose lock this host could not renew is another host's now: its worker here stops.
  worker.on("lockRenewalFailed", (jobIds: string[]) => {
    for (const jobId of jobIds) {
      const id = parts.running.get(jobId);
      if (!id) continue;
      log(`job ${jobId}: lost its lock (another host takes it over): stopping ${id}`);
      void local.stop({ ids: [id] }).catch(() => {});
    }
  });
  const control: QueueEvents = new bull.QueueEvents(names.control, { connection: controlRedis });
  for (const eventName of ["stop", "interrupt", "send"] as const) {
    control.on<ControlListener>(eventName, (args: Record<string, unknown>) => {
      const parsed = controlEvent.safeParse({ ...args, eventName });
      if (!parsed.success || parsed.data.workspace !== options.workspace) return;
      const id = parts.running.get(parsed.data.job);
      if (!id) return;
      try {
        if (eventName === "stop") {
          const grace = parsed.data.graceSeconds;
          void local.stop({ ids: [id], ...(grace === undefined ? {} : { graceSeconds: grace }) });
        } else if (eventName === "interrupt") local.interrupt(id);
        else local.send(id, parsed.data.text ?? "");
      } catch (error) {
        log(`job ${parsed.data.job}: ${eventName}: ${(error as Error).message}`);
      }
    });
  }
  await Promise.all([worker.waitUntilReady(), control.waitUntilReady()]);
  log(`ready: ${options.slots} slots for workspace ${options.workspace} on ${shownUrl(options.redis)}`);
  let closing: Promise<void> | undefined;
  return {
    close(force = false) {
      closing ??= (async () => {
        await worker.close(force);
        await Promise.allSettled([control.close(), updates.close()]);
        await local.close();
        for (const client of redis) client.disconnect();
        lock.close();
      })();
      return closing;
    },
  };
}

/** The lock every supervisor of a store takes: no daemon may start in the host's store meanwhile. */
function holdLock(home: string): Promise<net.Server> {
  const server = net.createServer();
  return new Promise((resolve, reject) => {
    server.once("error", (error) => {
      reject(
        errnoOf(error) === "EADDRINUSE"
          ? new BatonError(
              "supervisor",
              `a supervisor or host already runs in ${home}: give this host its own folder with --home`,
            )
          : error,
      );
    });
    server.listen(endpointFor(home).lockName, () => resolve(server));
  });
}
