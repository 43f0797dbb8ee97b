import { costText, usdText } from "../cost/cost.js";
import type { WorkerInfo, WorkerResult } from "../worker/types.js";
import { byWorkerId, count, duration } from "./numbers.js";
import { clipColumns, displayWidth, padColumns } from "./width.js";

// How workers and their outcomes read for people: `baton ls`, `result`, `wait`, the MCP tools, the demo.

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) =>
    Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ""))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : padColumns(c, widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** The most columns a label takes in `baton ls`. */
const LABEL_COLUMNS = 32;

/** The `baton ls` table, by id (w2 before w10). */
export function workerTable(
  workers: readonly WorkerInfo[],
  /** The most columns a label takes; an agent reading the table (the MCP tool) gets it whole. */
  labelColumns = LABEL_COLUMNS,
): string {
  if (workers.length === 0) return 'no workers yet: start one with `baton spawn "TASK"`';
  // A workspace on a queue (docs/scale-out.md) also says which host runs each worker.
  const hosts = workers.some((w) => w.host !== undefined);
  return table(
    ["ID", "LABEL", "ROLE", "STATE", "ELAPSED", "TOKENS", "COST", "RETRIES", ...(hosts ? ["HOST"] : [])],
    [...workers].sort(byWorkerId).map((w) => [
      w.id,
      // A long label is cut, so that one does not push every row past the screen (`--json` has it whole).
      clipColumns(w.label ?? "-", labelColumns),
      w.role ?? "-",
      // An unconfined worker is flagged where the eye goes first: its state.
      (w.state === "queued" && w.queuePosition ? `queued #${w.queuePosition}` : w.state) +
        (w.confinement === "unconfined" ? " (unconfined)" : ""),
      duration(w.elapsedMs),
      count(w.tokens),
      workerCost(w),
      String(w.retries),
      ...(hosts ? [w.host ?? "-"] : []),
    ]),
  );
}

/** A worker's cost in the `ls` column: `$0.0123`, `unpriced`, or `-` before it has run. */
export function workerCost(worker: Pick<WorkerInfo, "cost">): string {
  return worker.cost ? costText(worker.cost) : "-";
}

/** Why a worker did not succeed, in a few words. */
export function reasonText(info: Pick<WorkerResult, "state" | "reason">): string {
  const reason = info.reason;
  if (!reason) return info.state;
  switch (reason.kind) {
    case "exit":
      return `exit code ${reason.exitCode}${reason.message ? `: ${reason.message}` : ""}`;
    case "signal":
      return `killed by signal ${reason.signal}`;
    case "timeout":
      return reason.limit === "idle"
        ? `no output or events for ${reason.seconds}s (--idle-timeout)`
        : `timed out after ${reason.seconds}s (--timeout)`;
    case "budget":
      if (reason.unit === "usd")
        return reason.scope === "worker"
          ? `cost ${usdText(reason.used)}, over its budget of ${usdText(reason.limit)} (--max-cost)`
          : `its run cost ${usdText(reason.used)}, over the run's budget of ${usdText(reason.limit)} (--run-max-cost)`;
      return reason.scope === "worker"
        ? `used ${count(reason.used)} tokens, over its budget of ${count(reason.limit)} (--max-tokens)`
        : `its run used ${count(reason.used)} tokens, over the run's budget of ${count(reason.limit)} (--run-max-tokens)`;
    case "stopped":
      return reason.via === "interrupt" ? "interrupted (Ctrl+C)" : "stopped by the user";
    case "spawn_failed":
      return `could not start: ${reason.message}`;
    case "supervisor_lost":
      return "its supervisor died while it ran";
  }
}

/** Indents every non-empty line of `text`. */
export function indent(text: string, by = "  "): string {
  return text
    .split("\n")
    .map((line) => (line ? by + line : line))
    .join("\n");
}

/** Where an isolated writer's change went, and whether it merges cleanly. */
export function isolationText(isolation: NonNullable<WorkerResult["isolation"]>): string {
  if (!isolation.commit) return `baton: the worker changed nothing (branch ${isolation.branch})`;
  const files = `${isolation.changedFiles.length} file${isolation.changedFiles.length === 1 ? "" : "s"}`;
  const conflicts = isolation.conflicts.length
    ? `; CONFLICTS with HEAD in ${isolation.conflicts.join(", ")}`
    : "; merges cleanly into HEAD";
  return `baton: change committed on branch ${isolation.branch} (${isolation.commit.slice(0, 10)}, ${files})${conflicts}`;
}
