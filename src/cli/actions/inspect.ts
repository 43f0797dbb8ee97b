import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Baton } from "../../client/baton.js";
import { BatonError } from "../../errors.js";
import { DIR_MODE, writeFileAtomic } from "../../store/atomic.js";
import { isFinal } from "../../worker/state.js";
import type { WorkerInfo } from "../../worker/types.js";
import { ExitWith, type GlobalOptions, ioOf, printJson, withBaton, writeErr, writeOut } from "../context.js";
import { interruptible } from "../interruptible.js";
import type { Io } from "../io.js";
import { reasonText } from "../render.js";
import { rawText } from "./read.js";

/** How long after `wait --timeout` a supervisor that has not answered is given up on. */
const WAIT_MARGIN_MS = 1_000;

/** Keeps an interrupted wait's summary in the store, under `summaries/`. */
async function saveSummary(home: string, summary: string): Promise<string> {
  const dir = join(home, "summaries");
  await mkdir(dir, { mode: DIR_MODE }).catch(() => {});
  const file = join(dir, `wait-${new Date().toISOString().replaceAll(":", "-")}.md`);
  await writeFileAtomic(file, summary).catch(() => {});
  return file;
}

/** `baton logs ID`: the whole transcript for people, or its exact bytes with `--raw`. */
export async function logs(global: GlobalOptions, id: string, opts: { raw?: boolean } = {}): Promise<void> {
  const { text, worker } = await withBaton(global, async (baton) => {
    const listing = await baton.list();
    const worker = listing.workers.find((w) => w.id === id);
    if (!worker) {
      throw new BatonError("not_found", `no worker "${id}" in this workspace: see \`baton ls\``);
    }
    return { text: await baton.logs(id), worker };
  });
  if (opts.raw) return writeOut(rawText(text, ioOf(global)));
  const { readable } = await import("../../transcript/for-backend.js");
  writeOut(await readable(text, worker.backend ?? "codex", { ended: isFinal(worker.state) }));
  const follows = worker.continues ? `, continues ${worker.continues}` : "";
  process.stderr.write(`[${id} ${worker.state}${follows}]\n`);
}

export interface WaitFlags {
  readonly any?: boolean;
  readonly timeout?: number;
  readonly json?: boolean;
}

/** `baton wait [ID...]`. */
export async function wait(global: GlobalOptions, ids: string[], opts: WaitFlags): Promise<void> {
  // --timeout holds whatever the supervisor does: one that has not answered by then (stopped,
  // wedged) ends the wait all the same, with its pid named.
  const deadline = opts.timeout === undefined ? undefined : Date.now() + opts.timeout * 1000 + WAIT_MARGIN_MS;
  const timedOut = (error: unknown) => {
    if (deadline !== undefined && error instanceof BatonError && error.code === "timeout") {
      throw new ExitWith(124, `timed out waiting (--timeout): ${error.message}`);
    }
    throw error;
  };
  const io = ioOf(global);
  const open = { ...global, ...(deadline === undefined ? {} : { deadline }) };
  const printed = new Set<string>(); // workers whose line a pipe already got as they ended
  const result = await withBaton(open, async (baton) => {
    // The workers this wait is about: the ones named, or every unfinished one right now.
    const awaited = ids.length
      ? ids
      : (await baton.list()).workers.filter((w) => !isFinal(w.state)).map((w) => w.id);
    const controller = new AbortController();
    const stopper = interruptible(controller, async () => awaited, baton, io);
    if (io.err.isTTY && awaited.length > 0) {
      // Named ones that have ended already are not waited for: their lines follow at once.
      const going = ids.length
        ? (await baton.list()).workers.filter((w) => ids.includes(w.id) && !isFinal(w.state)).map((w) => w.id)
        : awaited;
      if (going.length > 0) io.err.write(`baton: waiting for ${going.join(" ")} (Ctrl+C stops them)\n`);
    }
    const progress = await liveProgress(baton, awaited, opts, printed, io);
    try {
      return await baton.wait(
        ids,
        {
          any: Boolean(opts.any),
          ...(opts.timeout === undefined ? {} : { timeoutMs: Math.round(opts.timeout * 1000) }),
        },
        controller.signal,
      );
    } catch (error) {
      if (!controller.signal.aborted) throw error;
      progress?.stop();
      await baton.stop(awaited);
      const { workers } = await baton.list();
      const { interruptedSummary } = await import("../../pattern/summary.js");
      const summary = await interruptedSummary(
        baton,
        workers.filter((w) => awaited.includes(w.id)),
        "Wait stopped (Ctrl+C): the workers were stopped",
      );
      const saved = await saveSummary(baton.home, summary);
      writeOut(summary, io);
      throw new ExitWith(130, `the workers were stopped; summary saved in ${saved}`);
    } finally {
      progress?.stop();
      stopper.dispose();
    }
  }).catch(timedOut);
  if (opts.json) printJson(result, io);
  else if (result.workers.length === 0) writeErr("baton: nothing to wait for: no worker is unfinished\n", io);
  else for (const w of result.workers) if (!printed.has(w.id)) writeOut(waitLine(w), io);
  if (result.timedOut) throw new ExitWith(124, opts.json ? "" : "timed out waiting (--timeout)");
  const ended = result.workers.filter((w) => isFinal(w.state));
  const judged = opts.any ? ended : result.workers;
  if (judged.some((w) => w.state !== "succeeded")) throw new ExitWith(1);
}

/** A worker's line in what `wait` prints: `w1 (label) failed: exit code 1`. */
function waitLine(w: Pick<WorkerInfo, "id" | "label" | "state" | "reason">): string {
  const why = isFinal(w.state) && w.state !== "succeeded" ? `: ${reasonText(w)}` : "";
  return `${w.id}${w.label ? ` (${w.label})` : ""} ${w.state}${why}\n`;
}

/**
 * What `wait` shows while it waits: on a terminal, a live line per worker on stderr (see
 * tui/wait-progress.ts); to a pipe, each worker's line on stdout as it ends (`printed` records it, so
 * that the end prints only the others). Nothing with --json, or when nothing is left to wait for.
 */
async function liveProgress(
  baton: Baton,
  awaited: readonly string[],
  opts: WaitFlags,
  printed: Set<string>,
  io: Io,
) {
  const live = io.err.isTTY ? io.err : undefined;
  const piped = !io.out.isTTY;
  if (opts.json || awaited.length === 0 || (!live && !piped)) return undefined;
  const { waitProgress } = await import("../../tui/wait-progress.js");
  return waitProgress(baton, awaited, {
    ...(live ? { live } : {}),
    env: io.env,
    onInterrupt: (handler) => io.onInterrupt(handler, { first: true }),
    ...(piped
      ? {
          onEnded: (worker: Pick<WorkerInfo, "id" | "label" | "state" | "reason">) => {
            printed.add(worker.id);
            writeOut(waitLine(worker), io);
          },
        }
      : {}),
  });
}
