import { join } from "node:path";
import { appendStoreFileSync } from "./no-follow.js";

/**
 * Appends a line to the store's `supervisor.log`, after the time. Never through a link planted in the
 * log's place (that would be a write outside the store); a log that cannot be written is skipped.
 */
export function appendSupervisorLog(home: string, line: string): void {
  try {
    appendStoreFileSync(home, join(home, "supervisor.log"), `${new Date().toISOString()} ${line}\n`);
  } catch {}
}
