import { closeSync, openSync, writeSync } from "node:fs";
import { workerNice } from "../confine/launcher.js";
import { type Clock, realClock } from "./clock.js";
import { type ProcessId, readStat } from "./proc-stat.js";

/** How much lower than the supervisor's a worker's session runs while a burst of workers starts. */
export const START_NICE = 10;

/**
 * How long after the last start a burst is over. Long enough to take in the next of a run of spawn
 * commands (a script's loop, an agent's calls one after the other, a few milliseconds apart), short
 * against any worker's life.
 */
export const BURST_QUIET_MS = 50;

/** Ends one worker's start: with its agent once that runs, with nothing if it did not start. */
export type StartDone = (agent?: ProcessId) => void;

/**
 * Keeps a burst of workers from starving the supervisor that starts them, and the command that asks
 * for them. Each worker's terminal is a session of its own, and where the kernel groups processes by
 * session (autogroup) each session gets as much of the CPU as the supervisor's: 32 agents starting at
 * once on 2 cores would leave the supervisor, still starting the next ones, a thirty-third. So an
 * agent that starts runs below (its session's nice value, START_NICE) until the burst is over: no
 * worker has been starting for BURST_QUIET_MS. Then every one gets the priority workers run at back.
 * Lowered for the burst only: a lowered session loses throughput to anything else that wakes up.
 *
 * A worker's start counts from the moment the scheduler starts it (its worktree, its files, its
 * launch) until its agent runs or it failed to start.
 */
export class StartPriority {
  private starting = 0;
  private lowered: ProcessId[] = [];
  private cancelGiveBack: (() => void) | undefined;

  /**
   * @param clock the machine's own, even for a supervisor on a clock a test moves: this is about the
   *   CPU the workers share, not about their own timeline.
   * @param runsAt the nice value of workers' sessions once started.
   */
  constructor(
    private readonly clock: Clock = realClock,
    private readonly runsAt = workerNice(),
  ) {}

  /** A worker's start begins; call the returned function, once, when it is over. */
  begin(): StartDone {
    this.starting += 1;
    this.cancelGiveBack?.();
    this.cancelGiveBack = undefined;
    let over = false;
    return (agent) => {
      if (over) return;
      over = true;
      this.starting -= 1;
      if (agent && this.runsAt < START_NICE && setSessionNice(agent, START_NICE)) this.lowered.push(agent);
      if (this.starting === 0 && this.lowered.length > 0)
        this.cancelGiveBack = this.clock.after(BURST_QUIET_MS, () => this.giveBack());
    };
  }

  private giveBack(): void {
    this.cancelGiveBack = undefined;
    const lowered = this.lowered;
    this.lowered = [];
    for (const agent of lowered) setSessionNice(agent, this.runsAt);
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
