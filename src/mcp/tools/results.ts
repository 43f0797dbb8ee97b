import { z } from "zod";
import { isolationText, reasonText, workerTable } from "../../cli/render.js";
import { costText } from "../../cost/cost.js";
import { isFinal } from "../../worker/state.js";
import type { WorkerInfo } from "../../worker/types.js";
import type { BatonSession } from "../session.js";
import { defineTool, type Tool } from "../tool.js";
import { workerId } from "./limits.js";

/** How much of a final answer `result` returns by default and at most; a cut answer is read on with `offset`. */
export const RESULT_DEFAULT_CHARS = 20_000;
export const RESULT_MAX_CHARS = 100_000;
/** Rows `list` returns by default and at most; `baton ls` shows every worker. */
export const LIST_DEFAULT_ROWS = 50;
export const LIST_MAX_ROWS = 500;
const LIST_MAX_WARNINGS = 5;

/** The tools that read what workers came to: one final answer, or the list of them all. */
export function resultTools(session: BatonSession): Tool[] {
  return [
    defineTool({
      name: "result",
      description:
        `A finished worker's final answer, and nothing else (no transcript): at most maxChars (default ${RESULT_DEFAULT_CHARS}, ` +
        `max ${RESULT_MAX_CHARS}); a longer one is cut, with a last line saying how to read on. An error while it still runs: wait first.`,
      input: z.strictObject({
        id: workerId,
        maxChars: z.number().int().min(1).max(RESULT_MAX_CHARS).optional(),
        offset: z.number().int().min(0).optional().describe("read on from here after a cut (default 0)"),
      }),
      example: { id: "w1" },
      readOnly: true,
      async run(args, signal) {
        const baton = await session.open();
        const result = await baton.result(args.id, signal);
        const offset = args.offset ?? 0;
        if (offset > 0 && offset >= result.answer.length) {
          return {
            isError: true,
            text: `result: ${result.id}'s answer has ${count(result.answer.length)} characters; give an offset below that.`,
          };
        }
        const answer = excerpt(result.id, result.answer, offset, args.maxChars ?? RESULT_DEFAULT_CHARS);
        const change = result.isolation
          ? `\n\n${isolationText(result.isolation).replace(/^baton: /, "")}`
          : "";
        if (result.state === "succeeded") return { text: `${answer}${change}` };
        const last = result.answer.trim() ? `\nIts last message:\n${answer}` : "";
        const cost = result.cost ? `; cost ${costText(result.cost)}` : "";
        return { text: `${result.id} ${result.state}: ${reasonText(result)}${cost}${last}${change}` };
      },
    }),
    defineTool({
      name: "list",
      description:
        "Workers, one line each: id, label, role, state, elapsed time, tokens, cost in US dollars. Unfinished ones first, then the " +
        `newest finished; at most limit rows (default ${LIST_DEFAULT_ROWS}, max ${LIST_MAX_ROWS}), and a line counting the rest.`,
      input: z.strictObject({ limit: z.number().int().min(1).max(LIST_MAX_ROWS).optional() }),
      example: { limit: LIST_DEFAULT_ROWS },
      readOnly: true,
      async run(args, signal) {
        const baton = await session.open();
        const { workers, maxParallel, problems } = await baton.list(signal);
        const limit = args.limit ?? LIST_DEFAULT_ROWS;
        const picked = pickWorkers(workers, limit);
        const warnings = problems.slice(0, LIST_MAX_WARNINGS).map((p) => `warning: ${p}`);
        if (problems.length > LIST_MAX_WARNINGS) {
          warnings.push(`(${problems.length - LIST_MAX_WARNINGS} more warnings: run \`baton ls\`)`);
        }
        const rest = leftOutLine(picked.leftOut, limit);
        return {
          text: [
            workerTable(picked.shown, Number.POSITIVE_INFINITY),
            ...(rest ? [rest] : []),
            `(at most ${maxParallel} run at once)`,
            ...warnings,
          ].join("\n"),
        };
      },
    }),
  ];
}

/**
 * The part of an answer from `offset`, at most `max` characters (never half a surrogate pair). When
 * more follows, one last line says how much, and how to read on.
 */
export function excerpt(id: string, answer: string, offset: number, max: number): string {
  if (offset === 0 && answer.length <= max) return answer;
  let end = Math.min(answer.length, offset + max);
  if (end < answer.length && end - 1 > offset && isHighSurrogate(answer.charCodeAt(end - 1))) end -= 1;
  const shown = answer.slice(offset, end);
  if (end === answer.length) return shown;
  const left = answer.length - end;
  return (
    `${shown}\n[baton: answer cut here, ${count(left)} of its ${count(answer.length)} characters left out: ` +
    `read on with result {"id": "${id}", "offset": ${end}}, or run \`baton result ${id}\` for all of it]`
  );
}

/** Unfinished workers first, then the newest finished ones: `limit` in all, each group in id order. */
export function pickWorkers(
  workers: readonly WorkerInfo[],
  limit: number,
): { shown: WorkerInfo[]; leftOut: { unfinished: number; finished: number } } {
  const byId = [...workers].sort((a, b) => idNumber(a.id) - idNumber(b.id));
  const unfinished = byId.filter((w) => !isFinal(w.state));
  const finished = byId.filter((w) => isFinal(w.state));
  const first = unfinished.slice(0, limit);
  const newest = finished.slice(finished.length - Math.min(finished.length, limit - first.length));
  return {
    shown: [...first, ...newest],
    leftOut: { unfinished: unfinished.length - first.length, finished: finished.length - newest.length },
  };
}

function leftOutLine(leftOut: { unfinished: number; finished: number }, limit: number): string | undefined {
  const total = leftOut.unfinished + leftOut.finished;
  if (total === 0) return undefined;
  const parts = [
    ...(leftOut.unfinished ? [`${leftOut.unfinished} unfinished`] : []),
    ...(leftOut.finished ? [`${leftOut.finished} older finished`] : []),
  ];
  const more = limit < LIST_MAX_ROWS ? `call list with a larger limit (max ${LIST_MAX_ROWS}), or ` : "";
  return `(${parts.join(" and ")} worker${total === 1 ? "" : "s"} not shown: ${more}run \`baton ls\` for all)`;
}

const idNumber = (id: string): number => Number(id.slice(1));
const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const count = (n: number): string => n.toLocaleString("en-US");
