import { join } from "node:path";
import { BatonError } from "../errors.js";
import type { EventQuery } from "../events/bus.js";
import type { Targets } from "../events/targets.js";
import type { BatonEvent, EventBatch, PublishedBody } from "../events/types.js";
import { DEFAULT_GRACE_SECONDS } from "../protocol/limits.js";
import type { Transport } from "../protocol/transport.js";
import { resolveHome } from "../store/home.js";
import { readStoreFile } from "../store/no-follow.js";
import { trustStore } from "../store/trusted.js";
import { isAlive, readStat } from "../supervisor/processes.js";
import type { PollResult, ResumeOutcome, WaitResult } from "../supervisor/supervisor.js";
import { WORKER_ENV } from "../supervisor/worker-env.js";
import { isFinal } from "../worker/state.js";
import type { WorkerInfo, WorkerResult } from "../worker/types.js";
import type { BatonOptions, PollOptions, ResultError, SpawnOptions } from "./options.js";
import { NoSupervisor, reachSupervisor } from "./reach.js";
import { spawnedAll, spawnRequest, stringEnv } from "./spawn-request.js";
import { endByPid } from "./supervisor-process.js";
import { followEvents, type WatchOptions, watchEvents } from "./watch.js";

export type { BatonOptions, PollOptions, ResultError, SpawnOptions } from "./options.js";

/** How long any request but a waiting one may go unanswered before it fails, naming the supervisor's pid. */
const REPLY_TIMEOUT_MS = 15_000;

/**
 * A client of one workspace's supervisor: the library API that the CLI and other adapters wrap.
 * Open it with {@link Baton.open}; close it when done. Workers keep running after it closes.
 */
export class Baton {
  private constructor(
    readonly home: string,
    private readonly cwd: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly connection: Transport,
    private readonly deadline: number | undefined,
  ) {}

  /**
   * @internal A Baton whose requests go to `transport`: the supervisor's own handlers, for a command it
   * runs on behalf of a caller it has admitted (cli/relay.ts).
   */
  static over(
    transport: Transport,
    where: {
      readonly home: string;
      readonly cwd: string;
      readonly env: NodeJS.ProcessEnv;
      readonly deadline?: number;
    },
  ): Baton {
    return new Baton(where.home, where.cwd, where.env, transport, where.deadline);
  }

  static async open(options: BatonOptions = {}): Promise<Baton> {
    const cwd = options.cwd ?? process.cwd();
    const env = options.env ?? process.env;
    const home = options.home ?? resolveHome(cwd, env);
    const connection = await reachSupervisor(home, {
      env,
      autoStart: options.autoStart !== false,
      deadline: options.deadline,
      signal: options.signal,
    });
    if (options.home !== undefined || env.BATON_HOME) trustStore(home, env); // named: the user's from now on
    return new Baton(home, cwd, env, connection, options.deadline);
  }

  /**
   * Stops every worker and the supervisor of the store, as {@link Baton.shutdown} does; a supervisor
   * that does not answer, or has lost its socket, is ended by its pid instead (SIGTERM, then SIGKILL).
   * Resolves with how it ended: "request" when it was asked, "none" when no supervisor runs.
   */
  static async shutdown(
    options: Omit<BatonOptions, "autoStart"> = {},
  ): Promise<
    | { how: "none" }
    | { how: "request"; pid: number; workers: number; ids: readonly string[] }
    | { how: "SIGTERM" | "SIGKILL"; pid: number }
  > {
    const home = options.home ?? resolveHome(options.cwd ?? process.cwd(), options.env ?? process.env);
    let baton: Baton;
    try {
      baton = await Baton.open({ ...options, home, autoStart: false });
    } catch (error) {
      if (error instanceof BatonError && error.code === "timeout") {
        const ended = await endByPid(home);
        if (ended) return ended;
      }
      if (error instanceof NoSupervisor) return { how: "none" };
      throw error;
    }
    try {
      const running = await baton.list(options.signal);
      const ids = running.workers.filter((w) => !isFinal(w.state)).map((w) => w.id);
      const pid = await baton.shutdown(options.signal);
      return { how: "request", pid, workers: ids.length, ids };
    } catch (error) {
      if (!(error instanceof BatonError && error.code === "timeout")) throw error;
      const ended = await endByPid(home);
      if (ended) return ended;
      throw error;
    } finally {
      baton.close();
    }
  }

  /** A request bounded by `ms` (undefined: by the heartbeat alone) and by the deadline. */
  private ask<T>(method: string, params: unknown, signal: AbortSignal | undefined, ms?: number): Promise<T> {
    const left = this.deadline === undefined ? undefined : Math.max(0, this.deadline - Date.now());
    const timeoutMs = ms === undefined ? left : left === undefined ? ms : Math.min(ms, left);
    return this.connection.request<T>(method, params, { signal, timeoutMs });
  }

  /** Starts a worker in the background; resolves with its id as soon as it is queued. */
  async spawn(options: SpawnOptions, signal?: AbortSignal): Promise<string> {
    refuseInsideWorker(this.env);
    const request = await spawnRequest(options, this.cwd, this.env, this.home);
    const { id } = await this.ask<{ id: string }>("spawn", request, signal, REPLY_TIMEOUT_MS);
    return id;
  }

  /**
   * Every worker (or only those of `query.workers`), the cap, the store's problems, and `seq`: the last
   * event's number (watch from it).
   */
  async list(
    signal?: AbortSignal,
    query: { readonly workers?: readonly string[] } = {},
  ): Promise<{ workers: WorkerInfo[]; maxParallel: number; problems: string[]; seq: number }> {
    const params = query.workers ? { workers: [...query.workers] } : {};
    return this.ask("list", params, signal, REPLY_TIMEOUT_MS);
  }

  /** The events after `since` (a sequence number; 0 for all kept); waits up to `waitMs` for the first. */
  events(since: number, query: EventQuery = {}, signal?: AbortSignal): Promise<EventBatch> {
    const params = { since, ...query, ...(query.workers ? { workers: [...query.workers] } : {}) };
    return this.ask("events", params, signal, (query.waitMs ?? 0) + REPLY_TIMEOUT_MS);
  }

  /** Every event as it happens: `for await (const event of baton.watch({ signal }))`. See {@link watchEvents}. */
  watch(options: WatchOptions = {}): AsyncGenerator<BatonEvent> {
    return watchEvents((since, query, signal) => this.events(since, query, signal), options);
  }

  /**
   * The events about these workers and runs (every event when none are named) until all of them have
   * ended: what `baton watch w3 r2` prints. See {@link followEvents}.
   */
  follow(targets: Targets, options: Omit<WatchOptions, "workers"> = {}): AsyncGenerator<BatonEvent> {
    return followEvents(this, targets, options);
  }

  /** Adds a run's or the plan's event to the workspace's stream; resolves with its sequence number. */
  async publish(event: PublishedBody, signal?: AbortSignal): Promise<number> {
    const { seq } = await this.ask<{ seq: number }>("publish", { event }, signal, REPLY_TIMEOUT_MS);
    return seq;
  }

  poll(id: string, options: PollOptions = {}, signal?: AbortSignal): Promise<PollResult> {
    return this.ask("poll", { id, ...options }, signal, (options.waitMs ?? 0) + REPLY_TIMEOUT_MS);
  }

  /** Types `text` into the worker's terminal, followed by Enter unless `enter` is false. */
  async send(
    id: string,
    text: string,
    options: { enter?: boolean } = {},
    signal?: AbortSignal,
  ): Promise<void> {
    await this.ask("send", { id, text, ...options }, signal, REPLY_TIMEOUT_MS);
  }

  /** Sends Ctrl+C to the worker's terminal. */
  async interrupt(id: string, signal?: AbortSignal): Promise<void> {
    await this.ask("interrupt", { id }, signal, REPLY_TIMEOUT_MS);
  }

  /** Ctrl+C, then SIGTERM, then SIGKILL after the grace period; resolves when the workers have ended. */
  async stop(ids: readonly string[] | "all", options: { graceSeconds?: number } = {}, signal?: AbortSignal) {
    const params = ids === "all" ? { all: true, ...options } : { ids: [...ids], ...options };
    // Ctrl+C, SIGTERM and SIGKILL, each after the grace period, then the records.
    const ms = 3 * (options.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000 + REPLY_TIMEOUT_MS;
    return (await this.ask<{ stopped: string[] }>("stop", params, signal, ms)).stopped;
  }

  /**
   * Continues lost workers (their supervisor died): each in its own recorded thread, never "the last
   * session", or from the start when no thread was recorded. Default: every lost worker.
   */
  async resume(ids: readonly string[] = [], signal?: AbortSignal): Promise<ResumeOutcome[]> {
    refuseInsideWorker(this.env);
    const { resumed } = await this.ask<{ resumed: ResumeOutcome[] }>(
      "resume",
      { ids: [...ids], env: stringEnv(this.env) },
      signal,
      REPLY_TIMEOUT_MS,
    );
    return resumed;
  }

  /** Resolves when the workers (default: every unfinished one) have ended, or one of them with `any`. */
  wait(
    ids: readonly string[] = [],
    options: { any?: boolean; timeoutMs?: number } = {},
    signal?: AbortSignal,
  ): Promise<WaitResult> {
    const ms = options.timeoutMs === undefined ? undefined : options.timeoutMs + REPLY_TIMEOUT_MS;
    return this.ask("wait", { ids: [...ids], ...options }, signal, ms);
  }

  /** The worker's final answer and outcome. Rejects while the worker is still running. */
  result(id: string, signal?: AbortSignal): Promise<WorkerResult> {
    return this.ask("result", { id }, signal, REPLY_TIMEOUT_MS);
  }

  /**
   * Starts several workers, each as {@link Baton.spawn} would, on this one connection; resolves with
   * their ids in the order of `tasks`. Every request is made before any is sent, so that they reach
   * the supervisor together and it stores them all before it starts the first agent. If one is refused
   * the others still start, and the rejection names the refused tasks and the ids started.
   */
  async spawnMany(tasks: readonly SpawnOptions[], signal?: AbortSignal): Promise<string[]> {
    if (tasks.length === 0) throw new BatonError("usage", "spawn: give at least one task");
    refuseInsideWorker(this.env);
    const made = await Promise.allSettled(tasks.map((t) => spawnRequest(t, this.cwd, this.env, this.home)));
    const asked = made.map(async (request) => {
      if (request.status === "rejected") throw request.reason;
      return (await this.ask<{ id: string }>("spawn", request.value, signal, REPLY_TIMEOUT_MS)).id;
    });
    return spawnedAll(tasks.length, await Promise.allSettled(asked));
  }

  /**
   * The final answers of several workers, in the order of `ids`, on one connection. A worker whose
   * answer cannot be given (still running, unknown) comes back as its error, in place.
   */
  async results(ids: readonly string[], signal?: AbortSignal): Promise<(WorkerResult | ResultError)[]> {
    const settled = await Promise.allSettled(ids.map((id) => this.result(id, signal)));
    return settled.map((s, i) => {
      if (s.status === "fulfilled") return s.value;
      const error = s.reason as { code?: unknown; message?: unknown };
      return {
        id: ids[i]!,
        error: {
          code: typeof error?.code === "string" ? error.code : "internal",
          message: typeof error?.message === "string" ? error.message : String(s.reason),
        },
      };
    });
  }

  /** The worker's full terminal transcript, read from the store. */
  async logs(id: string): Promise<string> {
    const { WORKER_ID } = await import("../store/store.js");
    if (!WORKER_ID.test(id))
      throw new BatonError("usage", `"${id}" is not a worker id: ids look like w1, w2, ...`);
    // Never through a link planted in the store (readStoreFile answers undefined for a missing file).
    const read = await readStoreFile(this.home, join(this.home, "workers", id, "transcript.log"));
    if (read) return read.text;
    await this.result(id).catch((e: BatonError) => {
      if (e.code === "not_found") throw e;
    });
    return "";
  }

  async configure(maxParallel: number, signal?: AbortSignal): Promise<void> {
    await this.ask("configure", { maxParallel }, signal, REPLY_TIMEOUT_MS);
  }

  /** Stops every worker and the supervisor. */
  async shutdown(signal?: AbortSignal): Promise<number> {
    const ms = 3 * DEFAULT_GRACE_SECONDS * 1000 + REPLY_TIMEOUT_MS;
    const { pid } = await this.ask<{ pid: number }>("shutdown", {}, signal, ms);
    // Resolve only once the supervisor is gone, so a caller may remove the store right after. Gone
    // includes a zombie: its parent is init, which may take seconds to reap it.
    const running = () => isAlive(pid) && readStat(pid)?.state !== "Z";
    for (let i = 0; i < 200 && running(); i++) await new Promise((r) => setTimeout(r, 10));
    return pid;
  }

  close(): void {
    this.connection.close();
  }
}

/** Workers do not spawn workers. */
export function refuseInsideWorker(env: NodeJS.ProcessEnv): void {
  const worker = env[WORKER_ENV.id];
  if (worker) {
    throw new BatonError(
      "nested",
      `workers cannot spawn workers (this is worker ${worker}): do the task yourself and report back to the orchestrator`,
    );
  }
}
