import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { readStoreFile } from "../store/no-follow.js";
import type { Plan } from "./index.js";
import { PLAN_FILE } from "./limits.js";

/** A plan worth showing: the workspace's own, or that of a pattern run still going. */
export interface ShownPlan {
  readonly title: string;
  readonly plan: Plan;
  readonly problem?: string;
}

/** The workspace plan and the plans of running pattern runs. A damaged plan becomes a warning. */
export async function currentPlans(home: string): Promise<ShownPlan[]> {
  const shown: ShownPlan[] = [];
  const add = async (title: string, dir: string) => {
    // No plan file, no plan: the plan code (and its schema library) is loaded only to read one.
    const missing = (e: NodeJS.ErrnoException) => e.code === "ENOENT";
    if (await lstat(join(dir, PLAN_FILE)).then(() => false, missing)) return;
    try {
      const { PlanStore } = await import("./plan-store.js");
      const plan = await new PlanStore(dir).show();
      if (plan) shown.push({ title, plan });
    } catch (error) {
      shown.push({ title, plan: { steps: [], updatedAt: "" }, problem: (error as Error).message });
    }
  };
  await add("Plan:", home);
  const runs = await readdir(join(home, "runs")).catch(() => [] as string[]);
  for (const id of runs.filter((name) => /^r\d+$/.test(name))) {
    try {
      const text = (await readStoreFile(home, join(home, "runs", id, "run.json")))?.text ?? "{}";
      const run = JSON.parse(text) as {
        state?: string;
        pattern?: string;
      };
      if (run.state === "running") await add(`Run ${id} (${run.pattern}):`, join(home, "runs", id));
    } catch {
      // a run record being written or damaged: nothing to show
    }
  }
  return shown.filter((p) => p.plan.steps.length > 0 || p.problem);
}
