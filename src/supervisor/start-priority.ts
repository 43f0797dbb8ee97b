import { closeSync, openSync, writeSync } from "node:fs";
import { workerNice } from "../confine/launcher.js";
import { type ProcessId, readStat } from "./proc-stat.js";

/** How much lower than the supervisor's a worker's session runs while a burst of workers starts. */
export const START_NICE = 10;

/** Ends one worker's start: with its agent once that runs, with nothing if it did not start. */
export type StartDone = (agent?: ProcessId) => void;

/**
 * Keeps a burst of workers from starving the supervisor that starts them. Each worker's terminal is a
 * session of its own, and where the kernel groups processes by session (autogroup) each session gets
 * as much of the CPU as the supervisor's: 32 agents starting at once on 2 cores would leave the
 * supervisor, still starting the next ones, a thirty-third. So while other workers are still to
 * start, an agent that runs is moved below (its session's nice value, START_NICE), and once the last
 * of them has started every one gets the priority workers run at back. Lowered for the start only:
 * a lowered session loses throughput to anything else on the machine that wakes up.
 *
 * A worker's start counts from the moment the scheduler starts it (its worktree, its files, its
 * launch) until its agent runs or it failed to start.
 */
export class StartPriority {
  private starting = 0;
  private lowered: ProcessId[] = [];

  /** @param runsAt the nice value of workers' sessions once started. */
  constructor(private readonly runsAt = workerNice()) {}

  /** A worker's start begins; call the returned function, once, when it is over. */
  begin(): StartDone {
    this.starting += 1;
    let over = false;
    return (agent) => {
      if (over) return;
      over = true;
      this.starting -= 1;
      if (this.starting > 0) {
        if (agent && this.runsAt < START_NICE && setSessionNice(agent, START_NICE)) this.lowered.push(agent);
        return;
      }
      const lowered = this.lowered;
      this.lowered = [];
      for (const started of lowered) setSessionNice(started, this.runsAt);
    };
  }
}

/**
 * Sets the nice value of the session `agent` leads (its autogroup: the kernel lets its owner lower it,
 * and raise it again as far as 0), if `agent` is still that process and leads a session of its own:
 * never another process's session that took its pid, nor the supervisor's own. True if it was set;
 * where the kernel has no autogroup, or refuses, the session stays as it was.
 */
function setSessionNice(agent: ProcessId, nice: number): boolean {
  const now = readStat(agent.pid);
  if (!now || now.startTime !== agent.startTime || now.session !== agent.pid) return false;
  let fd: number | undefined;
  try {
    fd = openSync(`/proc/${agent.pid}/autogroup`, "r+");
    writeSync(fd, String(nice));
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
