import type { Baton } from "../../client/baton.js";
import { readTextFile } from "../../context/text-file.js";
import { BatonError } from "../../errors.js";
import { MAX_LABEL_CHARS, MAX_NAME_CHARS, MAX_PROMPT_BYTES } from "../../protocol/limits.js";
import { MAX_MESSAGE_BYTES } from "../../protocol/lines.js";
import { ROLES, type Role } from "../../worker/types.js";
import { ExitWith } from "../context.js";
import { interruptible } from "../interruptible.js";
import type { Io } from "../io.js";
import { printAnswers } from "./answers.js";

// Several workers from one `baton spawn`: repeated `--task TEXT`, or `--tasks FILE` (`-` for stdin)
// with one JSON object a line. Every task shares the command's other options; a JSON line may give
// its own label, role, lens, write paths or read-only.

/** One worker's task and what it has of its own. */
export interface TaskLine {
  readonly task: string;
  readonly label?: string;
  readonly role?: Role;
  readonly lens?: string;
  readonly write?: string[];
  readonly readOnly?: boolean;
}

/** The most workers one `baton spawn` starts. */
export const MAX_TASKS = 256;

/** The tasks of a `baton spawn`: the prompt words (or stdin), else `--task`s, then `--tasks` lines. */
export async function tasksOf(
  words: readonly string[],
  opts: { task?: string[]; tasks?: string },
  readPrompt: () => Promise<string>,
  cwd: string,
): Promise<TaskLine[]> {
  const lines = [...(opts.task ?? []).map((task) => ({ task }))];
  if (opts.tasks !== undefined)
    lines.push(...(await parseLines(await readTasks(opts.tasks, cwd), opts.tasks)));
  if (words.length > 0) {
    if (lines.length > 0)
      throw new BatonError("usage", "give the task as words, or with --task/--tasks, not both");
    const task = words.length === 1 && words[0] === "-" ? await readPrompt() : words.join(" ");
    return [{ task }];
  }
  if (lines.length === 0)
    throw new BatonError(
      "usage",
      "give a task: `baton spawn TEXT`, `--task TEXT` (repeat for more), or `--tasks FILE` (see `baton spawn --help`)",
    );
  if (lines.length > MAX_TASKS)
    throw new BatonError("usage", `${lines.length} tasks: give at most ${MAX_TASKS} in one spawn`);
  for (const [i, { task }] of lines.entries()) {
    if (task.trim() === "") throw new BatonError("usage", `task ${i + 1} is empty: give the worker a task`);
  }
  return lines;
}

/**
 * `--tasks FROM`: a file, found from the caller's folder, or stdin. The file is read as a context pack
 * is: a regular file (never a device or a pipe, which could block or never end: a relayed spawn reads
 * it in the supervisor), at most what one request may carry, in UTF-8.
 */
async function readTasks(from: string, cwd: string): Promise<string> {
  if (from !== "-") return readTextFile(from, cwd, "the --tasks file", MAX_MESSAGE_BYTES);
  if (process.stdin.isTTY)
    throw new BatonError(
      "usage",
      "--tasks - reads JSON lines from stdin, but stdin is a terminal: pipe them in",
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size <= MAX_TASKS * MAX_PROMPT_BYTES) chunks.push(chunk as Buffer);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new BatonError("usage", "--tasks -: stdin is not valid UTF-8");
  }
}

/** One JSON object a line; blank lines are skipped. Each is checked at this edge, naming its line. */
async function parseLines(text: string, from: string): Promise<TaskLine[]> {
  const { z } = await import("zod");
  // Each field's complaint in the CLI's words: what is wrong, and what it takes.
  const line = z.strictObject(
    {
      task: z
        .string({ error: 'is missing or not text: give {"task": "..."}' })
        .min(1, "is empty: give the worker a task"),
      label: z
        .string({ error: "must be text" })
        .max(MAX_LABEL_CHARS, `is over ${MAX_LABEL_CHARS} characters: shorten it`)
        .optional(),
      role: z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` }).optional(),
      lens: z
        .string({ error: "must be text" })
        .min(1, "is empty: name the lens")
        .max(MAX_NAME_CHARS, `is over ${MAX_NAME_CHARS} characters: shorten it`)
        .optional(),
      write: z.array(z.string().min(1), { error: 'must be a list of paths, like ["src/a.ts"]' }).optional(),
      readOnly: z.boolean({ error: "must be true or false" }).optional(),
    },
    {
      error: (issue) =>
        issue.code === "invalid_type" ? 'must be one object, like {"task": "..."}' : undefined,
    },
  );
  const where = from === "-" ? "stdin" : from;
  const tasks: TaskLine[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    if (raw.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new BatonError(
        "usage",
        `--tasks ${where} line ${i + 1}: not JSON: give one object a line, like {"task": "...", "label": "..."}`,
      );
    }
    const parsed = line.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.length ? `"${issue.path.join(".")}"` : "the line";
      const what =
        issue?.code === "unrecognized_keys"
          ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")} (a line may have task, label, role, lens, write, readOnly)`
          : `${field} ${issue?.message ?? "is invalid"}`;
      throw new BatonError("usage", `--tasks ${where} line ${i + 1}: ${what}`);
    }
    tasks.push(parsed.data);
  }
  if (tasks.length === 0) throw new BatonError("usage", `--tasks ${where}: no task lines`);
  return tasks;
}

/**
 * `baton spawn --wait`: waits for the workers, then prints their answers (one alone bare, several each
 * under its header). Exit 0 only if all succeeded. Ctrl+C stops them gracefully, then their answers
 * so far are printed (exit 130).
 */
export async function waitAndPrint(
  baton: Baton,
  ids: readonly string[],
  opts: { json?: boolean; single: boolean },
  io: Io,
): Promise<void> {
  const controller = new AbortController();
  const stopper = interruptible(controller, async () => ids, baton, io);
  let stopped = false;
  try {
    await baton.wait(ids, {}, controller.signal);
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    stopped = true;
    await baton.stop(ids);
  } finally {
    stopper.dispose();
  }
  const answers = await baton.results(ids);
  try {
    printAnswers(answers, opts, io);
  } catch (error) {
    if (!stopped) throw error;
  }
  if (stopped) throw new ExitWith(130, "the workers were stopped (Ctrl+C)");
}
