import { backendNamed } from "../backend/registry.js";
import { BatonError } from "../errors.js";
import type { Entry } from "./worker-table.js";

// What a person or a lead types into a running worker's terminal, and Ctrl+C: refused in one line
// when nothing would reach the agent.

/** Types `text` (and Enter) into the worker's terminal, where its agent reads it. */
export function typeInto(entry: Entry, text: string, enter: boolean): void {
  const id = entry.spec.id;
  if (!entry.run)
    throw new BatonError("usage", `worker ${id} is ${entry.status.state}, not running: nothing to send to`);
  if (!backendNamed(entry.spec.backend).acceptsInput(entry.spec.bin)) {
    throw new BatonError(
      "usage",
      `worker ${id} runs ${entry.spec.backend} headless, which reads its prompt once and then no input: nothing typed reaches it; once it ends, continue its thread with \`baton spawn --continue ${id} "..."\``,
    );
  }
  entry.run.write(enter ? `${text}\r` : text);
}

/** Ctrl+C in the worker's terminal. */
export function interruptRun(entry: Entry): void {
  if (!entry.run)
    throw new BatonError(
      "usage",
      `worker ${entry.spec.id} is ${entry.status.state}, not running: nothing to interrupt`,
    );
  entry.run.interrupt();
}
