import type { WorkerRunner } from "../supervisor/runner.js";
import { readQueueConfig } from "./config.js";

/**
 * The runner of a workspace on a queue, or undefined for one that runs its workers here. Only a
 * workspace on a queue loads BullMQ and ioredis.
 */
export async function queueRunner(
  home: string,
  log: (line: string) => void,
): Promise<WorkerRunner | undefined> {
  const config = await readQueueConfig(home);
  if (!config) return undefined;
  const { Coordinator } = await import("./coordinator.js");
  const coordinator = await Coordinator.open(config, home, log);
  log(`coordinator of workspace ${config.workspace}: workers go on its queue`);
  return coordinator;
}
