import { lstat, mkdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { BatonError, errnoOf } from "../errors.js";
import { DIR_MODE, writeFileAtomic } from "../store/atomic.js";
import { ignoreStore } from "../store/home.js";
import { appendStoreFile, inStore, readStoreFile } from "../store/no-follow.js";
import { storeError } from "../store/store.js";
import { PLAN_FILE } from "./limits.js";
import { advancePlan, checkPlan, type Plan, type PlanOutcome, type PlanUpdate, startPlan } from "./plan.js";
import { describeIssue, storedPlan } from "./schema.js";

export { PLAN_FILE };
export const PLAN_HISTORY_FILE = "plan-history.jsonl";
export const NO_PLAN = "no plan yet: set one with `baton plan set STEP...`";

/**
 * The plan kept in one folder: the workspace's run store, or a pattern run's `runs/<runId>/` inside it.
 * `plan.json` holds the current version, replaced atomically; `plan-history.jsonl` gets every accepted
 * version appended. Plain file operations: no supervisor is involved.
 *
 * One writer is assumed (the lead agent): two concurrent `advance()` calls may both read the same version.
 * Neither file is ever opened through a symbolic link planted in its place.
 */
export class PlanStore {
  readonly planPath: string;
  readonly historyPath: string;

  constructor(readonly dir: string) {
    this.planPath = join(dir, PLAN_FILE);
    this.historyPath = join(dir, PLAN_HISTORY_FILE);
  }

  /** The current plan, or undefined if none was set. A damaged `plan.json` is a "store" BatonError. */
  async show(): Promise<Plan | undefined> {
    const text = await this.read(this.planPath);
    const fix = "replace it with `baton plan set STEP...` or delete it";
    return text === undefined ? undefined : this.parse(text, { where: this.planPath, fix });
  }

  /** Starts a new plan from step texts: the first in_progress, the rest pending. */
  set(steps: readonly string[], explanation?: string): Promise<PlanOutcome> {
    return this.accept(startPlan(steps, explanation));
  }

  /** The `update_plan` call: the given list replaces the plan, explanation included. */
  update(input: PlanUpdate): Promise<PlanOutcome> {
    return this.accept(input);
  }

  /** Completes the in_progress step and starts the next pending one; the last advance completes the plan. */
  async advance(): Promise<PlanOutcome> {
    const current = await this.show();
    if (!current) throw new BatonError("usage", NO_PLAN);
    return this.accept(advancePlan(current));
  }

  /** Every accepted version, oldest first. A torn last line (a crash mid-append) is left out. */
  async history(): Promise<Plan[]> {
    const text = await this.read(this.historyPath);
    if (text === undefined) return [];
    const lines = text.split("\n");
    const torn = lines.pop() ?? "";
    const plans = lines
      .map((line, index) => ({ line, where: `${this.historyPath} line ${index + 1}` }))
      .filter(({ line }) => line.trim() !== "")
      .map(({ line, where }) => this.parse(line, { where, fix: "fix or delete that line" }));
    try {
      if (torn.trim() !== "") plans.push(this.parse(torn, { where: this.historyPath, fix: "" }));
    } catch {}
    return plans;
  }

  private async accept(input: PlanUpdate): Promise<PlanOutcome> {
    const outcome = checkPlan(input);
    try {
      await this.makeDir();
      // The current plan first: a version counts as accepted once plan.json shows it.
      const text = `${JSON.stringify(outcome.plan, null, 2)}\n`;
      await inStore(this.dir, this.planPath, (at) => writeFileAtomic(at, text));
      await appendStoreFile(this.dir, this.historyPath, `${JSON.stringify(outcome.plan)}\n`);
    } catch (error) {
      if (error instanceof BatonError) throw error;
      throw storeError(this.dir, error);
    }
    return outcome;
  }

  private async read(path: string): Promise<string | undefined> {
    try {
      return (await readStoreFile(this.dir, path))?.text;
    } catch (error) {
      if (error instanceof BatonError) throw error;
      throw storeError(this.dir, error);
    }
  }

  /** A stored plan read back: valid JSON, the right fields, and still within the plan rules. */
  private parse(text: string, source: Source): Plan {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw damaged(source, "not valid JSON");
    }
    const parsed = storedPlan.safeParse(data);
    if (!parsed.success) throw damaged(source, describeIssue(parsed.error, data));
    const { explanation, steps, updatedAt } = parsed.data;
    try {
      const { plan } = checkPlan({ ...(explanation === undefined ? {} : { explanation }), plan: steps });
      return { ...plan, updatedAt };
    } catch (error) {
      throw damaged(source, `breaks the plan rules: ${(error as Error).message}`);
    }
  }

  /** Creates the plan's folder owner-only; a pattern run's parent `runs/` folder may need creating too. */
  private async makeDir(): Promise<void> {
    let made = true;
    try {
      await mkdir(this.dir, { mode: DIR_MODE });
    } catch (error) {
      if (errnoOf(error) === "ENOENT") {
        await mkdir(dirname(this.dir), { recursive: true, mode: DIR_MODE });
        await mkdir(this.dir, { mode: DIR_MODE });
      } else if (errnoOf(error) !== "EEXIST") throw error;
      else made = false;
    }
    // A plan set before any worker makes the run store itself: it ignores itself from the start.
    if (made && basename(dirname(this.dir)) !== "runs") await ignoreStore(this.dir).catch(() => {});
    const info = await lstat(this.dir);
    if (info.isSymbolicLink() || !info.isDirectory()) {
      throw new BatonError(
        "store",
        `the plan folder ${this.dir} is not a plain folder: remove it or set BATON_HOME`,
      );
    }
  }
}

/** Where a stored plan was read from, and how a person can repair it. */
interface Source {
  readonly where: string;
  readonly fix: string;
}

function damaged(source: Source, detail: string): BatonError {
  return new BatonError("store", `the plan in ${source.where} is damaged (${detail}): ${source.fix}`);
}
