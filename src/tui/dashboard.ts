import { usdText } from "../cost/cost.js";
import { totalSpent } from "../cost/total.js";
import type { ShownPlan } from "../plan/current.js";
import { renderPlan } from "../plan/render.js";
import { count, duration } from "../render/numbers.js";
import { terminalText } from "../render/terminal-text.js";
import { workerCost } from "../render/workers.js";
import { isFinal } from "../worker/state.js";
import type { WorkerInfo } from "../worker/types.js";
import type { LiveRun, LiveSnapshot } from "./live.js";

// What `baton top` shows, as plain text cells; app.ts lays them out with Ink. Every text that came
// from a worker, a model or a user (labels, plan steps, run steps, transcripts, answers, errors) is
// made visible here, never handed raw to the terminal.

/** Text made safe to draw: control characters shown (`\x1b`), tabs as spaces. */
export const shown = (text: string): string => terminalText(text).replaceAll("\t", "  ");

/** The widest a label is shown. */
const LABEL_MAX = 24;

export const COLUMNS = [
  "ID",
  "LABEL",
  "ROLE",
  "BACKEND",
  "STATE",
  "ELAPSED",
  "TOKENS",
  "COST",
  "ACTIVE",
] as const;

/** One worker's row: its cells in COLUMNS order, and its state for the colour. */
export interface WorkerRow {
  readonly id: string;
  readonly state: WorkerInfo["state"];
  readonly cells: readonly string[];
}

/** The worker rows at `now`: elapsed times of unfinished workers grow from when they were listed. */
export function workerRows(snapshot: LiveSnapshot, now: number): WorkerRow[] {
  return snapshot.workers.map((w) => {
    const running = !isFinal(w.state);
    const elapsed = running ? w.elapsedMs + Math.max(0, now - snapshot.listedAt) : w.elapsedMs;
    const active = snapshot.activity.get(w.id);
    const state = w.state === "queued" && w.queuePosition ? `queued #${w.queuePosition}` : w.state;
    return {
      id: w.id,
      state: w.state,
      cells: [
        w.id,
        cut(shown(w.label ?? "-"), LABEL_MAX),
        w.role ?? "-",
        shown(w.backend ?? "codex"),
        state + (w.confinement === "unconfined" ? " (unconfined)" : ""),
        duration(elapsed),
        count(w.tokens),
        workerCost(w),
        // Time since its last output or token use; an ended worker's no longer matters.
        running && active !== undefined ? `${duration(Math.max(0, now - active))} ago` : "-",
      ],
    };
  });
}

/** The width of each column: its widest cell or heading. */
export function columnWidths(rows: readonly WorkerRow[]): number[] {
  return COLUMNS.map((name, i) => Math.max(name.length, ...rows.map((r) => (r.cells[i] ?? "").length)));
}

/** Cells padded to `widths`, two spaces apart. */
export function padded(cells: readonly string[], widths: readonly number[]): string[] {
  return cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)));
}

/** The workspace plan and those of running pattern runs, as `baton ls` shows them. */
export function planLines(plans: readonly ShownPlan[]): string[] {
  return plans.flatMap(({ title, plan, problem }) => [
    title,
    ...(problem ? [`  ! ${shown(problem)}`] : []),
    ...shown(renderPlan(plan))
      .split("\n")
      .map((line) => `  ${line}`),
  ]);
}

/** The runs seen: each one's pattern, state and the step it is at (or last finished). */
export function runLines(runs: readonly LiveRun[], now: number): string[] {
  if (runs.length === 0) return [];
  const idWidth = Math.max(...runs.map((r) => r.id.length));
  const patternWidth = Math.max(...runs.map((r) => shown(r.pattern).length));
  const lines = runs.map((run) => {
    const state = (run.ended ?? "running").padEnd(9);
    const since = duration(Math.max(0, now - run.at));
    const step = !run.step
      ? ""
      : run.step.ended
        ? `finished step: ${shown(run.step.name)}${run.step.workers.length ? ` (${run.step.workers.join(" ")})` : ""}`
        : `step: ${shown(run.step.name)}`;
    const when = run.ended
      ? `ended ${since} ago`
      : run.step && !run.step.ended
        ? `for ${since}`
        : `${since} ago`;
    return `  ${run.id.padEnd(idWidth)}  ${shown(run.pattern).padEnd(patternWidth)}  ${state}  ${[step, when].filter(Boolean).join(", ")}`;
  });
  return ["Runs:", ...lines];
}

/** A summary for the top line: how many workers are in each state, and their tokens and dollars together. */
export function summary(workers: readonly WorkerInfo[]): string {
  if (workers.length === 0) return 'no workers yet: start one with `baton spawn "TASK"`';
  const states = new Map<string, number>();
  for (const w of workers) states.set(w.state, (states.get(w.state) ?? 0) + 1);
  const parts = [...states].map(([state, n]) => `${n} ${state}`);
  const { tokens, usd, unpriced } = totalSpent(workers);
  // What has no price is counted, never added in as nothing.
  const dollars =
    unpriced.length === 0
      ? usdText(usd)
      : unpriced.length === workers.length
        ? "unpriced"
        : `${usdText(usd)} + ${unpriced.length} unpriced`;
  return `${workers.length} worker${workers.length === 1 ? "" : "s"}: ${parts.join(", ")}; ${count(tokens)} tokens, ${dollars}`;
}

/** The first row of a window of `height` rows out of `total` that keeps row `selected` in sight. */
export function windowStart(total: number, selected: number, height: number, start: number): number {
  if (height <= 0 || total <= height) return 0;
  let first = Math.min(start, total - height);
  if (selected < first) first = selected;
  if (selected >= first + height) first = selected - height + 1;
  return Math.max(0, first);
}

/** `text` split into lines of at most `width` characters (long lines wrap). */
export function wrapped(text: string, width: number): string[] {
  const lines: string[] = [];
  const w = Math.max(1, width);
  for (const line of shown(text).replace(/\n$/, "").split("\n")) {
    if (line.length <= w) lines.push(line);
    else for (let i = 0; i < line.length; i += w) lines.push(line.slice(i, i + w));
  }
  return lines;
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
