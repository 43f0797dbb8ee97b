import { BatonError } from "../../errors.js";
import { resolveHome } from "../../store/home.js";
import { WORKER_ID } from "../../store/store.js";
import { resumeRun } from "../../workflow/index.js";
import { type GlobalOptions, printJson, withBaton, writeOut } from "../context.js";
import { runToResult } from "./run.js";

const RUN_ID = /^r[1-9][0-9]{0,8}$/;

/** `baton resume [ID...]`: lost workers, or one run. */
export async function resume(global: GlobalOptions, ids: string[], opts: { json?: boolean }): Promise<void> {
  const runs = ids.filter((id) => RUN_ID.test(id));
  if (runs.length > 0) {
    if (ids.length > 1) throw new BatonError("usage", "resume one run at a time, and no workers with it");
    const home = global.home ?? resolveHome();
    await runToResult(home, process.cwd(), opts, (baton, signal, onEvent) =>
      resumeRun(baton, runs[0]!, { signal, onEvent }),
    );
    return;
  }
  const bad = ids.find((id) => !WORKER_ID.test(id));
  if (bad) {
    throw new BatonError("usage", `"${bad}" is neither a worker id (w1, w2, ...) nor a run id (r1, r2, ...)`);
  }
  const resumed = await withBaton(global, (baton) => baton.resume(ids));
  if (opts.json) printJson({ resumed });
  else if (resumed.length === 0) process.stdout.write("no lost workers to resume\n");
  else {
    for (const r of resumed) {
      writeOut(
        r.how === "thread"
          ? r.resent
            ? `${r.id} resumed in its thread ${r.threadId} (its follow-up had not reached the thread: sent again)\n`
            : `${r.id} resumed in its thread ${r.threadId}\n`
          : r.uncontinued
            ? `${r.id} runs again from the start (its thread ${r.uncontinued} cannot be continued here: the agent's session files do not hold it with its task)\n`
            : `${r.id} runs again from the start (no thread was recorded)\n`,
      );
    }
  }
}
