import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { errnoOf } from "../errors.js";
import { DIR_MODE, writeFileAtomic, writeFileOnce } from "../store/atomic.js";
import { storeError } from "../store/store.js";

/** A worker a pattern run started, and which step it belongs to. */
export interface RunWorker {
  readonly id: string;
  readonly step: string;
  readonly label: string;
}

/** What `runs/<id>/run.json` records about a pattern run; enough to show it and, later, to resume it. */
export interface RunState {
  readonly id: string;
  readonly pattern: string;
  readonly options: unknown;
  readonly state: "running" | "succeeded" | "failed" | "canceled";
  readonly workers: readonly RunWorker[];
  readonly createdAt: string;
  readonly endedAt?: string;
}

/** One pattern run's folder in the run store: `runs/r<N>/` with run.json, plan and result files. */
export class RunRecord {
  private state: RunState;
  /** Saves run one after another, so a slower earlier save never overwrites a later one. */
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    initial: RunState,
  ) {
    this.state = initial;
  }

  /** Creates the next free `runs/r<N>/` folder; mkdir is the lock, so two runs never share one. */
  static async create(home: string, pattern: string, options: unknown): Promise<RunRecord> {
    const root = join(home, "runs");
    try {
      await mkdir(root, { mode: DIR_MODE }).catch((error) => {
        if (errnoOf(error) !== "EEXIST") throw error;
      });
      const taken = (await readdir(root)).filter((n) => /^r\d+$/.test(n)).map((n) => Number(n.slice(1)));
      for (let n = Math.max(0, ...taken) + 1; ; n++) {
        const dir = join(root, `r${n}`);
        try {
          await mkdir(dir, { mode: DIR_MODE });
        } catch (error) {
          if (errnoOf(error) === "EEXIST") continue;
          throw error;
        }
        const record = new RunRecord(dir, {
          id: `r${n}`,
          pattern,
          options,
          state: "running",
          workers: [],
          createdAt: new Date().toISOString(),
        });
        await record.save();
        return record;
      }
    } catch (error) {
      throw storeError(home, error);
    }
  }

  get id(): string {
    return this.state.id;
  }

  get workers(): readonly RunWorker[] {
    return this.state.workers;
  }

  async addWorker(worker: RunWorker): Promise<void> {
    this.state = { ...this.state, workers: [...this.state.workers, worker] };
    await this.save();
  }

  async end(state: RunState["state"]): Promise<void> {
    this.state = { ...this.state, state, endedAt: new Date().toISOString() };
    await this.save();
  }

  /** Writes the run's one result, once: `result.md` for people and `result.json` for programs. */
  async writeResult(markdown: string, data: unknown): Promise<void> {
    await writeFileOnce(join(this.dir, "result.md"), markdown);
    await writeFileOnce(join(this.dir, "result.json"), `${JSON.stringify(data, null, 2)}\n`);
  }

  private save(): Promise<void> {
    const next = this.saving.then(() =>
      writeFileAtomic(join(this.dir, "run.json"), `${JSON.stringify(this.state, null, 2)}\n`),
    );
    this.saving = next.catch(() => {});
    return next;
  }
}
