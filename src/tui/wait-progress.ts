import type { Baton } from "../client/baton.js";
import { BatonError } from "../errors.js";
import { count, duration } from "../render/numbers.js";
import { terminalText } from "../render/terminal-text.js";
import { isFinal } from "../worker/state.js";
import type { WorkerInfo } from "../worker/types.js";
import { followWorkspace, type LiveSnapshot, LONG_POLL_MS } from "./live.js";
import { colourAllowed, STATE_SGR } from "./palette.js";

// `baton wait`'s live progress: on a terminal, one line per awaited worker (state, elapsed time,
// tokens) redrawn in place, and taken away before anything else is written (the answers, or the
// Ctrl+C messages); for a pipe, a callback as each worker ends, so that its line is printed then.
//
// The block is drawn with three escape sequences of its own (erase a line, go up N lines, erase to the
// end of the screen) rather than through Ink: it must give way at once to other writers on the same
// terminal (a Ctrl+C handler, the answers), and `wait` should not load a UI framework to draw it.

/** How often the elapsed times are redrawn when nothing else happens. */
const TICK_MS = 1_000;

/** Where the live lines are drawn: a terminal (stderr), with its size when known. */
export interface Terminal {
  write(text: string): void;
  readonly columns?: number | undefined;
  readonly rows?: number | undefined;
}

export interface WaitProgressOptions {
  /** A terminal to draw the live lines on (stderr); none: nothing is drawn. */
  readonly live?: Terminal;
  /**
   * Calls `handler` at Ctrl+C, before the command's own handler, until the returned function is
   * called. @default the process's SIGINT
   */
  readonly onInterrupt?: (handler: () => void) => () => void;
  /** Called once for each awaited worker as it ends (the moment it is seen ended). */
  readonly onEnded?: (worker: EndedWorker) => void;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Which of the followed workers to show (`baton run`: the run's own, as it starts them). @default all */
  readonly select?: (worker: WorkerInfo) => boolean;
}

/** What is told of a worker as it ends (to a pipe, its row as first listed, so no more than this). */
export type EndedWorker = Pick<WorkerInfo, "id" | "label" | "state" | "reason">;

export interface WaitProgress {
  /** Stops following and takes the live lines away; what was drawn is erased. */
  stop(): void;
  /** Writes `text` (whole lines) above the live lines, which are drawn again under it. */
  above(text: string): void;
}

/**
 * Follows `ids` while a wait runs. Best effort: if the supervisor stops answering, the lines stop
 * changing and the wait itself reports it.
 */
export function waitProgress(
  baton: Baton,
  ids: readonly string[],
  options: WaitProgressOptions,
): WaitProgress {
  if (!options.live && ids.length > 0) return endsOnly(baton, ids, options);
  const controller = new AbortController();
  const colour = colourAllowed(options.env ?? process.env);
  const ended = new Set<string>();
  const out = options.live;
  let latest: LiveSnapshot | undefined;
  let drawn = 0;
  let stopped = false;
  let dispose = () => {};

  const shown = (snapshot: LiveSnapshot): LiveSnapshot =>
    options.select ? { ...snapshot, workers: snapshot.workers.filter(options.select) } : snapshot;
  const draw = (before = "") => {
    if (stopped || !out || !latest) return;
    const lines = frame(shown(latest), { width: out.columns || 80, height: out.rows || 24, colour });
    const up = drawn > 0 ? `\x1b[${drawn}F\x1b[J` : "";
    out.write(`${up}${before}${lines.map((line) => `\x1b[2K${line}\n`).join("")}\x1b[J`);
    drawn = lines.length;
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    controller.abort();
    clearInterval(ticker);
    dispose();
    if (out && drawn > 0) out.write(`\x1b[${drawn}F\x1b[J`);
    drawn = 0;
  };
  const ticker = setInterval(draw, TICK_MS);
  ticker.unref();
  // Ctrl+C: the lines go before the command's own handler writes what it does about it.
  if (out) dispose = (options.onInterrupt ?? firstAtSigint)(stop);

  followWorkspace(baton, {
    ...(ids.length > 0 ? { workers: ids } : {}),
    signal: controller.signal,
    onSnapshot: (snapshot) => {
      latest = snapshot;
      for (const worker of shown(snapshot).workers) {
        if (!isFinal(worker.state) || ended.has(worker.id)) continue;
        ended.add(worker.id);
        if (!stopped) options.onEnded?.(worker);
      }
      // Nothing left to wait for (or never was): nothing to draw.
      if (drawn === 0 && shown(snapshot).workers.every((w) => isFinal(w.state))) return;
      draw();
    },
  }).catch(() => {});
  const above = (text: string) => {
    if (stopped || !out || drawn === 0) out?.write(text);
    else draw(text);
  };
  return { stop, above };
}

/**
 * With nothing to draw, only each end is wanted: the workers are listed once, then only their state
 * events are followed, each final one handed on as the listing's row with its final state and reason.
 * Not followed event by event and listed after each batch, which cost the supervisor several
 * milliseconds of CPU a worker while the workers crowd the machine; nor a wait for any of the rest
 * after each end, which lists all the rest each time (N times N rows).
 */
function endsOnly(baton: Baton, ids: readonly string[], options: WaitProgressOptions): WaitProgress {
  const controller = new AbortController();
  const { signal } = controller;
  const workers = [...new Set(ids)];
  const seen = new Set<string>();
  const ended = (worker: WorkerInfo) => {
    if (signal.aborted || seen.has(worker.id) || !isFinal(worker.state)) return;
    seen.add(worker.id);
    if (options.select?.(worker) ?? true) options.onEnded?.(worker);
  };
  const follow = async () => {
    const listing = await baton.list(signal, { workers });
    const rows = new Map(listing.workers.map((w) => [w.id, w]));
    for (const worker of listing.workers) ended(worker);
    let since = listing.seq;
    let typed = true;
    while (!signal.aborted && seen.size < rows.size) {
      const query = { workers, waitMs: LONG_POLL_MS, ...(typed ? { types: ["state" as const] } : {}) };
      let batch: Awaited<ReturnType<Baton["events"]>>;
      try {
        batch = await baton.events(since, query, signal);
      } catch (error) {
        // A supervisor started before `types` was known (still running after an upgrade) refuses it:
        // every event then, the state ones picked out here.
        if (!typed || !(error instanceof BatonError) || error.code !== "usage") throw error;
        typed = false;
        continue;
      }
      since = batch.next;
      if (batch.missed > 0)
        for (const worker of (await baton.list(signal, { workers })).workers) ended(worker);
      for (const event of batch.events) {
        if (event.type !== "state") continue;
        const row = rows.get(event.worker);
        if (row) ended({ ...row, state: event.to, reason: event.reason });
      }
    }
  };
  follow().catch(() => {});
  return { stop: () => controller.abort(), above: () => {} };
}

function firstAtSigint(handler: () => void): () => void {
  process.prependListener("SIGINT", handler);
  return () => process.off("SIGINT", handler);
}

/** The live lines: one per worker, cut to the terminal's width; the unfinished first if they do not fit. */
export function frame(
  snapshot: LiveSnapshot,
  view: { readonly width: number; readonly height: number; readonly colour: boolean },
  now = Date.now(),
): string[] {
  const max = Math.max(1, view.height - 2);
  let shown = [...snapshot.workers];
  let more = "";
  if (shown.length > max) {
    shown = [...shown.filter((w) => !isFinal(w.state)), ...shown.filter((w) => isFinal(w.state))].slice(
      0,
      max - 1,
    );
    const rest = snapshot.workers.filter((w) => !shown.includes(w));
    more = `... and ${rest.length} more (${rest.filter((w) => isFinal(w.state)).length} ended)`;
  }
  const idWidth = Math.max(...shown.map((w) => w.id.length), 2);
  const labelWidth = Math.min(
    24,
    Math.max(0, ...shown.map((w) => (w.label ? terminalText(w.label).length : 0))),
  );
  const lines = shown.map((w) => {
    const elapsed = isFinal(w.state) ? w.elapsedMs : w.elapsedMs + Math.max(0, now - snapshot.listedAt);
    const label = labelWidth ? `${cut(terminalText(w.label ?? "-"), labelWidth).padEnd(labelWidth)}  ` : "";
    const head = `${w.id.padEnd(idWidth)}  ${label}`;
    const tail = `  ${duration(elapsed).padStart(7)}  ${count(w.tokens)} tokens`;
    return fit(head, w.state, tail, view.width - 1, view.colour);
  });
  return more ? [...lines, cut(more, view.width - 1)] : lines;
}

/** `head`, then `state` coloured, then `tail`, cut to `width` characters in all. */
function fit(head: string, state: string, tail: string, width: number, colour: boolean): string {
  const padded = state.padEnd(11);
  const plain = cut(head + padded + tail, width);
  if (!colour || plain.length <= head.length) return plain;
  const shownState = plain.slice(head.length, head.length + state.length);
  const sgr = STATE_SGR[state] ?? "";
  return `${head}${sgr ? `\x1b[${sgr}m${shownState}\x1b[0m` : shownState}${plain.slice(head.length + shownState.length)}`;
}

function cut(text: string, width: number): string {
  if (width <= 0) return "";
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}
