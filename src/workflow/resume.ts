import { readFileSync } from "node:fs";
import type { Baton } from "../client/baton.js";
import { loadNamedAgents } from "../client/named-agents.js";
import { BatonError } from "../errors.js";
import { fromSettings, type PatternRunOptions } from "../pattern/pattern-run.js";
import { type PatternOutcome, resumePattern } from "../pattern/run-pattern.js";
import { RunRecord } from "../pattern/run-record.js";
import { loadWorkflow } from "./load.js";
import { runWorkflow } from "./run.js";

/** Whether `pid` is a live Node process (a `baton run` or `baton resume`), not a recycled pid. */
function drivesARun(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0");
    return /node/.test(argv[0] ?? "") && argv.some((arg) => /baton|cli[/\\]main\.js/.test(arg));
  } catch {
    return false;
  }
}

/**
 * `baton resume RUN`: continues a pattern or workflow run that was killed or stopped part way.
 * Workers that finished are used as they are; lost ones are resumed in their own threads.
 */
export async function resumeRun(
  baton: Baton,
  id: string,
  live: Pick<PatternRunOptions, "signal" | "onEvent">,
): Promise<PatternOutcome> {
  const record = await RunRecord.open(baton.home, id);
  const { state, pattern, options, settings, owner } = record.snapshot;
  if (state === "succeeded") {
    throw new BatonError("usage", `run ${id} already succeeded: its result is in ${record.dir}/result.md`);
  }
  if (state === "running" && owner !== undefined && owner !== process.pid && drivesARun(owner)) {
    throw new BatonError(
      "busy",
      `run ${id} is still being driven by process ${owner}: let it finish, or stop it (Ctrl+C) and resume then`,
    );
  }
  if (pattern !== "workflow") return resumePattern(baton, record, live);
  const file = (options as { file?: unknown } | undefined)?.file;
  if (typeof file !== "string") throw new BatonError("store", `run ${id} does not record its workflow file`);
  // The named agents the run settled, and any the config names now (settleAgents keeps the run's).
  const agents = [...Object.keys(settings?.agents ?? {}), ...Object.keys(await loadNamedAgents(baton.home))];
  const workflow = await loadWorkflow(file, { ...(settings ? { cwd: settings.cwd } : {}), agents });
  const { cwd: _cwd, ...rest } = fromSettings(settings ?? { cwd: workflow.cwd });
  await record.reopen();
  return runWorkflow(baton, workflow, { ...rest, ...live, resume: true }, record);
}
