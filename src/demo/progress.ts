import { duration } from "../cli/render.js";
import { terminalText } from "../render/terminal-text.js";
import type { WorkerInfo } from "../worker/types.js";

/** Shows the workers' progress as `update` is called with fresh listings. */
export interface ProgressView {
  update(workers: readonly WorkerInfo[]): void;
}

/** Redraws a live table on a terminal; on a pipe or file, logs one line per state change instead. */
export function progressView(out: NodeJS.WriteStream): ProgressView {
  return out.isTTY ? liveTable(out) : stateChangeLog(out);
}

function liveTable(out: NodeJS.WriteStream): ProgressView {
  let drawn = 0;
  return {
    update(workers) {
      // Move back up over the previous frame and overwrite it line by line, clearing leftovers.
      const up = drawn > 0 ? `\x1b[${drawn}F` : "";
      // The label is the caller's text: shown, never run, between the frame's own escape sequences.
      out.write(up + workers.map((w) => `\x1b[2K${terminalText(workerLine(w))}\n`).join(""));
      drawn = workers.length;
    },
  };
}

function stateChangeLog(out: NodeJS.WriteStream): ProgressView {
  const seen = new Map<string, WorkerInfo["state"]>();
  return {
    update(workers) {
      for (const worker of workers) {
        if (seen.get(worker.id) === worker.state) continue;
        seen.set(worker.id, worker.state);
        out.write(`${workerLine(worker)}\n`);
      }
    },
  };
}

function workerLine(w: WorkerInfo): string {
  return [
    w.id.padEnd(4),
    (w.label ?? "-").padEnd(12),
    (w.role ?? "-").padEnd(12),
    w.state.padEnd(10),
    duration(w.elapsedMs).padStart(6),
    `${w.tokens.toLocaleString("en-US")} tokens`.padStart(14),
  ].join("  ");
}
