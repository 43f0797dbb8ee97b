import { currentPlans } from "../../plan/current.js";
import { renderPlan } from "../../plan/render.js";
import { byWorkerId } from "../../render/numbers.js";
import { damageOf } from "../../store/integrity.js";
import { isFinal } from "../../worker/state.js";
import { ExitWith, type GlobalOptions, ioOf, printJson, withBaton, writeErr, writeOut } from "../context.js";
import type { Io } from "../io.js";
import { indent, isolationText, reasonText, workerTable } from "../render.js";
import { results } from "./answers.js";

// The commands an orchestrator runs most, once per worker or per look: `ls`, `poll` and `result`. They
// live apart from `logs` and `wait` so that the quick path (../quick.ts) loads only them.

/** `baton ls`. */
export async function ls(global: GlobalOptions, opts: { json?: boolean }): Promise<void> {
  const io = ioOf(global);
  const { listing, plans } = await withBaton(global, async (baton) => ({
    listing: await baton.list(),
    plans: await currentPlans(baton.home),
  }));
  listing.workers.sort(byWorkerId); // w2 before w10, here and in --json
  if (opts.json) return printJson({ ...listing, plans }, io);
  for (const { title, plan } of plans) writeOut(`${title}\n${indent(renderPlan(plan))}\n\n`, io);
  writeOut(`${workerTable(listing.workers)}\n`, io);
  for (const problem of [...listing.problems, ...plans.flatMap((p) => p.problem ?? [])]) {
    writeErr(`baton: warning: ${problem}\n`, io);
  }
  for (const worker of listing.workers) {
    const damage = damageOf(worker);
    if (damage.length === 0) continue;
    const files = damage.map((d) => `${d.file} ${d.what}`).join("; ");
    writeErr(
      `baton: warning: worker ${worker.id}: store damage: ${files}: Baton still serves what it recorded (\`baton result ${worker.id}\`)\n`,
      io,
    );
  }
}

export interface PollFlags {
  readonly wait?: number;
  readonly maxBytes?: number;
  readonly reader: string;
  readonly since?: number;
  readonly raw?: boolean;
  readonly json?: boolean;
}

/**
 * `baton poll ID`. For people, by default: the new whole lines, rendered (see transcript/readable.ts);
 * the cursor then stops before a line still being written, which comes whole next time. `--raw` and
 * `--json` give the bytes exactly as the transcript has them.
 */
export async function poll(global: GlobalOptions, id: string, opts: PollFlags): Promise<void> {
  const io = ioOf(global);
  const raw = opts.raw === true || opts.json === true;
  const result = await withBaton(global, (baton) =>
    baton.poll(id, {
      reader: opts.reader,
      ...(opts.since === undefined ? {} : { since: opts.since }),
      ...(opts.wait === undefined ? {} : { waitMs: opts.wait }),
      ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }),
      ...(raw ? {} : { wholeLines: true }),
    }),
  );
  if (opts.json) return printJson(result, io);
  if (result.cut > 0) io.out.write(`[... ${result.cut} earlier bytes cut ...]\n`);
  if (raw) {
    writeOut(rawText(result.output, io), io);
  } else {
    const { readable } = await import("../../transcript/for-backend.js");
    writeOut(await readable(result.output, result.backend, { ended: isFinal(result.state) }), io);
  }
  io.err.write(`[${id} ${result.state}, cursor ${result.cursor}]\n`);
}

/** `baton result ID`. */
export async function result(
  global: GlobalOptions,
  ids: string[],
  opts: { json?: boolean; all?: boolean },
): Promise<void> {
  const io = ioOf(global);
  const [id] = ids;
  // Several, or all: each answer under a header naming its worker.
  if (opts.all || ids.length !== 1 || id === undefined) return results(global, ids, opts);
  const result = await withBaton(global, (baton) => baton.result(id));
  if (opts.json) printJson(result, io);
  else if (result.answer) writeOut(result.answer.endsWith("\n") ? result.answer : `${result.answer}\n`, io);
  if (!opts.json && result.isolation) writeErr(`${isolationText(result.isolation)}\n`, io);
  if (result.state !== "succeeded") {
    throw new ExitWith(1, opts.json ? "" : `worker ${id} ${result.state}: ${reasonText(result)}`);
  }
}

/**
 * Transcript bytes as `--raw` prints them: exact to a pipe (a script may want every byte); on a terminal,
 * with the pseudo-terminal's CR LF as plain line ends and every other control character shown, not run.
 */
export function rawText(text: string, io: Io): string {
  return io.out.isTTY ? text.replaceAll("\r\n", "\n") : text;
}
