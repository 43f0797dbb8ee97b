import type { WorkerResult } from "../worker/types.js";
import type { AttemptContext } from "./attempts.js";
import type { Entry } from "./worker-table.js";

/**
 * Where a started worker runs. By default here, each attempt in a PTY under this supervisor
 * (`runWorker`); a workspace on a queue (src/queue/) hands it to a host instead, and the runner
 * settles with the result the host sends back.
 */
export interface WorkerRunner {
  /** Runs a worker whose turn has come (it is `running` already) until its result is known. */
  run(entry: Entry, context: AttemptContext): Promise<WorkerResult>;
  /**
   * A worker the store holds unfinished when this supervisor starts: true if it goes on elsewhere (it
   * is queued again, or followed with `run` if it was running), false to mark it lost as usual.
   */
  adopts(entry: Entry): boolean;
  /** Lets go of what the runner holds (connections): the supervisor is closing. */
  close(): Promise<void>;
}
