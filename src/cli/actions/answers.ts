import type { Baton, ResultError } from "../../client/baton.js";
import { isFinal } from "../../worker/state.js";
import type { WorkerResult } from "../../worker/types.js";
import { ExitWith, type GlobalOptions, ioOf, printJson, withBaton, writeErr, writeOut } from "../context.js";
import type { Io } from "../io.js";
import { isolationText, reasonText } from "../render.js";

// Several workers' final answers at once (`baton result ID... | --all`, `baton spawn --wait`): each
// under a header naming the worker, so that one command reads them all.

type Answer = WorkerResult | ResultError;

const failed = (answer: Answer): answer is ResultError => "error" in answer;

/** `## w3 (label): succeeded`, or the state and why, or why there is no answer. */
function header(answer: Answer): string {
  if (failed(answer)) return `## ${answer.id}: ${answer.error.message}`;
  const name = `${answer.id}${answer.label ? ` (${answer.label})` : ""}`;
  const state = answer.state === "succeeded" ? answer.state : `${answer.state}: ${reasonText(answer)}`;
  return `## ${name}: ${state}`;
}

/**
 * Prints `answers` (one alone as its bare answer, as `baton result ID` does; several each under its
 * header), or JSON; then exits 1, naming them, if any did not succeed.
 */
export function printAnswers(
  answers: readonly Answer[],
  opts: { json?: boolean; single?: boolean },
  io: Io,
): void {
  const one = opts.single === true && answers.length === 1 ? answers[0] : undefined;
  if (opts.json) printJson(one ?? answers, io);
  else if (one && failed(one)) throw new ExitWith(1, one.error.message);
  else {
    answers.forEach((answer, i) => {
      if (!one) writeOut(`${i > 0 ? "\n" : ""}${header(answer)}\n\n`, io);
      if (failed(answer)) return;
      if (answer.answer) writeOut(answer.answer.endsWith("\n") ? answer.answer : `${answer.answer}\n`, io);
      if (answer.isolation) {
        if (one) writeErr(`${isolationText(answer.isolation)}\n`, io);
        else writeOut(`\n${isolationText(answer.isolation)}\n`, io);
      }
    });
  }
  const notOk = answers.filter((a) => failed(a) || a.state !== "succeeded");
  if (notOk.length === 0) return;
  if (opts.json) throw new ExitWith(1);
  if (one && !failed(one)) throw new ExitWith(1, `worker ${one.id} ${one.state}: ${reasonText(one)}`);
  throw new ExitWith(1, `${notOk.length} of ${answers.length} workers have no answer: ${whyNot(notOk)}`);
}

/** The workers without an answer, grouped by why: not there, not ended yet, ended without success. */
function whyNot(answers: readonly Answer[]): string {
  const ids = (pick: (a: Answer) => boolean) => answers.filter(pick).map((a) => a.id);
  const code = (a: Answer) => (failed(a) ? a.error.code : undefined);
  const unknown = ids((a) => code(a) === "not_found");
  const going = ids((a) => code(a) === "not_finished" || (!failed(a) && !isFinal(a.state)));
  const unreadable = ids((a) => failed(a) && code(a) !== "not_found" && code(a) !== "not_finished");
  const ended = ids((a) => !failed(a) && isFinal(a.state));
  return [
    unknown.length > 0 ? `not in this workspace ${unknown.join(" ")} (see baton ls)` : "",
    going.length > 0 ? `not ended yet ${going.join(" ")} (baton wait ${going.join(" ")})` : "",
    ended.length > 0 ? `did not succeed ${ended.join(" ")}` : "",
    unreadable.length > 0 ? `unreadable ${unreadable.join(" ")}` : "",
  ]
    .filter(Boolean)
    .join("; ");
}

/** The ids `--all` names: every worker of the workspace, in id order. */
export async function allIds(baton: Baton): Promise<string[]> {
  const { workers } = await baton.list();
  return workers.map((w) => w.id).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
}

/** `baton result ID...` and `baton result --all`. */
export async function results(
  global: GlobalOptions,
  ids: readonly string[],
  opts: { json?: boolean; all?: boolean },
): Promise<void> {
  if (opts.all && ids.length > 0) throw new ExitWith(2, "give worker ids or --all, not both");
  if (!opts.all && ids.length === 0)
    throw new ExitWith(2, "give a worker id, several, or --all (see `baton result --help`)");
  const answers = await withBaton(global, async (baton) =>
    baton.results(opts.all ? await allIds(baton) : ids),
  );
  if (opts.all && answers.length === 0) {
    if (opts.json) printJson([], ioOf(global));
    else writeErr("baton: no workers in this workspace\n", ioOf(global));
    return;
  }
  printAnswers(answers, { ...opts, single: !opts.all }, ioOf(global));
}
