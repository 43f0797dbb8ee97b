import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ContextPack } from "../context/index.js";
import { BatonError, errnoOf } from "../errors.js";
import { describeIssue, spawnParams } from "../protocol/messages.js";
import { defaultScope, renderWorkerPrompt } from "../roles/index.js";
import { resolveHome } from "../store/home.js";
import { Store, WORKER_ID } from "../store/store.js";
import { endpointFor } from "../supervisor/endpoint.js";
import { isAlive } from "../supervisor/processes.js";
import type { PollResult, ResumeOutcome, WaitResult } from "../supervisor/supervisor.js";
import { WORKER_ENV } from "../supervisor/worker-env.js";
import type { Role, WorkerInfo, WorkerResult } from "../worker/types.js";
import { startSupervisor } from "./autostart.js";
import { Connection, isNotListening } from "./connection.js";

export interface BatonOptions {
  /** The run store. @default BATON_HOME, else the nearest `.baton` folder, else `./.baton` */
  readonly home?: string;
  /** Where relative paths and the default store are resolved. @default process.cwd() */
  readonly cwd?: string;
  /** The environment workers inherit. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Start the supervisor if none is running. @default true */
  readonly autoStart?: boolean;
  readonly signal?: AbortSignal;
}

export interface SpawnOptions {
  /** The task; the worker preamble is added in front of it. */
  readonly task: string;
  readonly label?: string;
  readonly role?: Role;
  /** Run read-only (the default unless `write` is given or the role is implementer). */
  readonly readOnly?: boolean;
  /** Paths the worker may write. */
  readonly write?: readonly string[];
  /** The agent's working directory. @default the Baton cwd */
  readonly cwd?: string;
  readonly model?: string;
  /** Wall-clock limit. @default 3600 */
  readonly timeoutSeconds?: number;
  /** Stop the worker after this long with no output and no events. @default 600 */
  readonly idleTimeoutSeconds?: number;
  /** Stop the worker once it has used more tokens than this (input + output, all attempts). */
  readonly maxTokens?: number;
  /** Re-runs after a transient failure (model 5xx, a model that never answers). @default 2 */
  readonly retries?: number;
  /** The run the worker belongs to, and that run's token budget over all its workers. */
  readonly group?: { readonly id: string; readonly maxTokens?: number };
  /** @default "codex" */
  readonly backend?: string;
  /** The agent binary (`--codex-bin`). @default BATON_CODEX_BIN, then PATH, then node_modules */
  readonly bin?: string;
  /** Sets the workspace's concurrency cap; workers beyond it queue in order. */
  readonly maxParallel?: number;
  /** Refuse at once, instead of queueing, when another writer holds one of the `write` paths. */
  readonly noWait?: boolean;
  /** Write in an own git worktree; the change comes back as a commit on branch `baton/<id>-...`. */
  readonly isolate?: boolean;
  /** A JSON Schema the final answer must follow (codex `--output-schema`). */
  readonly outputSchema?: Record<string, unknown>;
  /** A review lens (ids from `LENSES`, or free text), for the reviewer template. */
  readonly lens?: string;
  /** A context pack rendered into the prompt. */
  readonly context?: ContextPack;
  /** A template replacing the role's built-in one (see `loadTemplate`). */
  readonly template?: string;
  /** The full prompt, when the caller rendered it; the worker preamble is ensured in front. */
  readonly prompt?: string;
}

export interface PollOptions {
  /** Whose cursor to use and advance. @default "default" */
  readonly reader?: string;
  /** Read from this byte offset instead of the reader's cursor. */
  readonly since?: number;
  /** Wait up to this long for new output or the end. @default 0 */
  readonly waitMs?: number;
  /** Return at most the last this-many bytes of new output. @default 16384 */
  readonly maxBytes?: number;
}

/**
 * A client of one workspace's supervisor: the library API that the CLI and other adapters wrap.
 * Open it with {@link Baton.open}; close it when done. Workers keep running after it closes.
 */
export class Baton {
  private constructor(
    readonly home: string,
    private readonly cwd: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly connection: Connection,
  ) {}

  static async open(options: BatonOptions = {}): Promise<Baton> {
    const cwd = options.cwd ?? process.cwd();
    const env = options.env ?? process.env;
    const home = options.home ?? resolveHome(cwd, env);
    const { socket } = endpointFor(home);
    for (let attempt = 0; ; attempt++) {
      options.signal?.throwIfAborted();
      try {
        return new Baton(home, cwd, env, await Connection.open(socket));
      } catch (error) {
        if (error instanceof BatonError) throw error; // refused by the supervisor, or an unsafe socket
        if (!isNotListening(error)) {
          throw new BatonError("supervisor", `cannot reach the supervisor at ${socket} (${errnoOf(error)})`);
        }
        if (options.autoStart === false) {
          throw new BatonError(
            "supervisor",
            `no supervisor is running for ${home}: run a command such as \`baton ls\` to start one`,
          );
        }
        if (attempt >= 20) throw new BatonError("supervisor", `the supervisor for ${home} does not answer`);
        if (attempt === 0) {
          await Store.open(home); // a clear error now, rather than a supervisor that cannot start
          await startSupervisor(home, env);
        } else await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }

  /** Starts a worker in the background; resolves with its id as soon as it is queued. */
  async spawn(options: SpawnOptions, signal?: AbortSignal): Promise<string> {
    refuseInsideWorker(this.env);
    const { lens, context, template, ...rest } = options;
    const cwd = resolve(this.cwd, options.cwd ?? ".");
    const templated =
      options.role !== undefined || lens !== undefined || context !== undefined || template !== undefined;
    const prompt =
      options.prompt ??
      (templated
        ? renderWorkerPrompt({
            task: options.task,
            scope: options.readOnly
              ? { kind: "read-only" }
              : defaultScope(options.role, options.write ?? [], cwd),
            ...(options.role ? { role: options.role } : {}),
            ...(lens ? { lens } : {}),
            ...(context ? { context } : {}),
            ...(template ? { template } : {}),
          })
        : undefined);
    const parsed = spawnParams.safeParse({
      ...withoutUndefined(rest),
      ...(prompt ? { prompt } : {}),
      ...(options.write ? { write: [...options.write] } : {}),
      cwd,
      env: stringEnv(this.env),
    });
    if (!parsed.success) throw new BatonError("usage", describeIssue(parsed.error, "spawn"));
    const { id } = await this.connection.request<{ id: string }>("spawn", parsed.data, signal);
    return id;
  }

  async list(
    signal?: AbortSignal,
  ): Promise<{ workers: WorkerInfo[]; maxParallel: number; problems: string[] }> {
    return this.connection.request("list", {}, signal);
  }

  poll(id: string, options: PollOptions = {}, signal?: AbortSignal): Promise<PollResult> {
    return this.connection.request("poll", { id, ...options }, signal);
  }

  /** Types `text` into the worker's terminal, followed by Enter unless `enter` is false. */
  async send(
    id: string,
    text: string,
    options: { enter?: boolean } = {},
    signal?: AbortSignal,
  ): Promise<void> {
    await this.connection.request("send", { id, text, ...options }, signal);
  }

  /** Sends Ctrl+C to the worker's terminal. */
  async interrupt(id: string, signal?: AbortSignal): Promise<void> {
    await this.connection.request("interrupt", { id }, signal);
  }

  /** Ctrl+C, then SIGTERM, then SIGKILL after the grace period; resolves when the workers have ended. */
  async stop(ids: readonly string[] | "all", options: { graceSeconds?: number } = {}, signal?: AbortSignal) {
    const params = ids === "all" ? { all: true, ...options } : { ids: [...ids], ...options };
    return (await this.connection.request<{ stopped: string[] }>("stop", params, signal)).stopped;
  }

  /**
   * Continues lost workers (their supervisor died): each in its own recorded thread, never "the last
   * session", or from the start when no thread was recorded. Default: every lost worker.
   */
  async resume(ids: readonly string[] = [], signal?: AbortSignal): Promise<ResumeOutcome[]> {
    refuseInsideWorker(this.env);
    const { resumed } = await this.connection.request<{ resumed: ResumeOutcome[] }>(
      "resume",
      { ids: [...ids], env: stringEnv(this.env) },
      signal,
    );
    return resumed;
  }

  /** Resolves when the workers (default: every unfinished one) have ended, or one of them with `any`. */
  wait(
    ids: readonly string[] = [],
    options: { any?: boolean; timeoutMs?: number } = {},
    signal?: AbortSignal,
  ): Promise<WaitResult> {
    return this.connection.request("wait", { ids: [...ids], ...options }, signal);
  }

  /** The worker's final answer and outcome. Rejects while the worker is still running. */
  result(id: string, signal?: AbortSignal): Promise<WorkerResult> {
    return this.connection.request("result", { id }, signal);
  }

  /** The worker's full terminal transcript, read from the store. */
  async logs(id: string): Promise<string> {
    if (!WORKER_ID.test(id))
      throw new BatonError("usage", `"${id}" is not a worker id: ids look like w1, w2, ...`);
    try {
      return await readFile(join(this.home, "workers", id, "transcript.log"), "utf8");
    } catch (error) {
      if (errnoOf(error) !== "ENOENT") throw error;
      await this.result(id).catch((e: BatonError) => {
        if (e.code === "not_found") throw e;
      });
      return "";
    }
  }

  async configure(maxParallel: number, signal?: AbortSignal): Promise<void> {
    await this.connection.request("configure", { maxParallel }, signal);
  }

  /** Stops every worker and the supervisor. */
  async shutdown(signal?: AbortSignal): Promise<void> {
    const { pid } = await this.connection.request<{ pid: number }>("shutdown", {}, signal);
    // Resolve only once the supervisor is gone, so a caller may remove the store right after.
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
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

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}
