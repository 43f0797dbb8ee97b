import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { NamedAgents } from "../client/agent-schema.js";
import { BatonError, errnoOf } from "../errors.js";
import { DIR_MODE, writeFileAtomic, writeFileOnce } from "../store/atomic.js";
import { inStore, readStoreFile } from "../store/no-follow.js";
import { storeError } from "../store/store.js";
import type { AgentChoice, RoleKey } from "./agents.js";

/** A worker a pattern run started, which step it belongs to, and the agent it runs on. */
export interface RunWorker {
  readonly id: string;
  readonly step: string;
  readonly label: string;
  readonly backend?: string;
  /** The named agent of the config it ran as (its backend is then `command` or `acp`). */
  readonly agent?: string;
  /**
   * The model it ran, as the agent reported it, else the one it asked for (or that Baton names for it);
   * absent when neither is known (the agent's own default).
   */
  readonly model?: string;
}

/** How the run's workers are started: kept so that `baton resume RUN` starts them the same way. */
export interface RunSettings {
  readonly cwd: string;
  readonly context?: unknown;
  readonly templates?: Record<string, string>;
  readonly timeoutSeconds?: number;
  readonly idleTimeoutSeconds?: number;
  readonly maxTokens?: number;
  readonly maxCostUsd?: number;
  readonly retries?: number;
  readonly runMaxTokens?: number;
  readonly runMaxCostUsd?: number;
  readonly backend?: string;
  readonly model?: string;
  readonly roleAgents?: Readonly<Partial<Record<RoleKey, AgentChoice>>>;
  readonly bin?: string;
  readonly bins?: Readonly<Record<string, string>>;
  readonly commands?: Readonly<Record<string, string>>;
  readonly agents?: NamedAgents;
}

/** What `runs/<id>/run.json` records about a run: enough to show it and to resume it. */
export interface RunState {
  readonly id: string;
  readonly pattern: string;
  readonly options: unknown;
  readonly settings?: RunSettings;
  readonly state: "running" | "succeeded" | "failed" | "canceled";
  readonly workers: readonly RunWorker[];
  readonly createdAt: string;
  readonly endedAt?: string;
  /** Times `baton resume` continued it. */
  readonly resumes?: number;
  /** The process driving the run (the `baton run` or `baton resume` that started it last). */
  readonly owner?: number;
}

const RUN_ID = /^r[1-9][0-9]{0,8}$/;

const runStateSchema = z.object({
  id: z.string(),
  pattern: z.string(),
  options: z.unknown(),
  settings: z.looseObject({ cwd: z.string() }).optional(),
  state: z.enum(["running", "succeeded", "failed", "canceled"]),
  workers: z.array(
    z.object({
      id: z.string(),
      step: z.string(),
      label: z.string(),
      backend: z.string().optional(),
      agent: z.string().optional(),
      model: z.string().optional(),
    }),
  ),
  createdAt: z.string(),
  endedAt: z.string().optional(),
  resumes: z.number().optional(),
  owner: z.number().optional(),
});

/** One pattern run's folder in the run store: `runs/r<N>/` with run.json, plan and result files. */
export class RunRecord {
  private state: RunState;
  /** Saves run one after another, so a slower earlier save never overwrites a later one. */
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    /** The run store the record lives in: nothing below it is reached through a link. */
    private readonly home: string,
    readonly dir: string,
    initial: RunState,
  ) {
    this.state = initial;
  }

  /** Creates the next free `runs/r<N>/` folder; mkdir is the lock, so two runs never share one. */
  static async create(
    home: string,
    pattern: string,
    options: unknown,
    settings?: RunSettings,
  ): Promise<RunRecord> {
    const root = join(home, "runs");
    try {
      await inStore(home, root, (at) => mkdir(at, { mode: DIR_MODE })).catch((error) => {
        if (errnoOf(error) !== "EEXIST") throw error;
      });
      const taken = (await readdir(root)).filter((n) => /^r\d+$/.test(n)).map((n) => Number(n.slice(1)));
      for (let n = Math.max(0, ...taken) + 1; ; n++) {
        const dir = join(root, `r${n}`);
        try {
          await inStore(home, dir, (at) => mkdir(at, { mode: DIR_MODE }));
        } catch (error) {
          if (errnoOf(error) === "EEXIST") continue;
          throw error;
        }
        const record = new RunRecord(home, dir, {
          id: `r${n}`,
          pattern,
          options,
          ...(settings ? { settings } : {}),
          state: "running",
          owner: process.pid,
          workers: [],
          createdAt: new Date().toISOString(),
        });
        await record.save();
        return record;
      }
    } catch (error) {
      if (error instanceof BatonError) throw error;
      throw storeError(home, error);
    }
  }

  /** Opens an existing run's record, for `baton resume RUN`. */
  static async open(home: string, id: string): Promise<RunRecord> {
    if (!RUN_ID.test(id))
      throw new BatonError("usage", `"${id}" is not a run id: run ids look like r1, r2, ...`);
    const dir = join(home, "runs", id);
    let text: string;
    try {
      const read = await readStoreFile(home, join(dir, "run.json"));
      if (!read) throw new BatonError("not_found", `no run "${id}" in this workspace: see .baton/runs/`);
      text = read.text;
    } catch (error) {
      if (error instanceof BatonError) throw error;
      throw storeError(home, error);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new BatonError("store", `${join(dir, "run.json")} is not valid JSON: the run cannot be resumed`);
    }
    const parsed = runStateSchema.safeParse(data);
    if (!parsed.success || parsed.data.id !== id) {
      throw new BatonError("store", `${join(dir, "run.json")} is damaged: the run cannot be resumed`);
    }
    return new RunRecord(home, dir, parsed.data as RunState);
  }

  get id(): string {
    return this.state.id;
  }

  get snapshot(): RunState {
    return this.state;
  }

  /** Marks a run that ended (or whose process died) as running again. */
  async reopen(): Promise<void> {
    const { endedAt: _ended, ...rest } = this.state;
    this.state = { ...rest, state: "running", owner: process.pid, resumes: (this.state.resumes ?? 0) + 1 };
    await this.save();
  }

  /** Puts a new worker in the place of one that will not be reused (it was canceled). */
  async replaceWorker(oldId: string, worker: RunWorker): Promise<void> {
    this.state = {
      ...this.state,
      workers: this.state.workers.map((w) => (w.id === oldId ? worker : w)),
    };
    await this.save();
  }

  get workers(): readonly RunWorker[] {
    return this.state.workers;
  }

  async addWorker(worker: RunWorker): Promise<void> {
    this.state = { ...this.state, workers: [...this.state.workers, worker] };
    await this.save();
  }

  /** Records the model a worker ran, once the agent has said (it may differ from the one asked for). */
  async setModel(id: string, model: string): Promise<void> {
    const worker = this.state.workers.find((w) => w.id === id);
    if (!worker || worker.model === model) return;
    this.state = {
      ...this.state,
      workers: this.state.workers.map((w) => (w.id === id ? { ...w, model } : w)),
    };
    await this.save();
  }

  async end(state: RunState["state"]): Promise<void> {
    this.state = { ...this.state, state, endedAt: new Date().toISOString() };
    await this.save();
  }

  /** Writes the run's one result, once: `result.md` for people and `result.json` for programs. */
  async writeResult(markdown: string, data: unknown): Promise<void> {
    await this.put("result.md", markdown, writeFileOnce);
    await this.put("result.json", `${JSON.stringify(data, null, 2)}\n`, writeFileOnce);
  }

  /** Writes a file of the run's folder (`summary.md`, ...), replacing it whole. */
  async writeFile(name: string, text: string): Promise<void> {
    await this.put(name, text, writeFileAtomic);
  }

  /** Writes `name` in the run's folder with `how`, never through a link planted on the way. */
  private async put(
    name: string,
    text: string,
    how: (path: string, data: string) => Promise<unknown>,
  ): Promise<void> {
    await inStore(this.home, join(this.dir, name), (at) => how(at, text));
  }

  private save(): Promise<void> {
    const next = this.saving.then(() =>
      this.put("run.json", `${JSON.stringify(this.state, null, 2)}\n`, writeFileAtomic),
    );
    this.saving = next.catch(() => {});
    return next;
  }
}
