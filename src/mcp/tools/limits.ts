import { z } from "zod";
import {
  MAX_NAME_CHARS,
  MAX_PATH_CHARS,
  MAX_PROMPT_BYTES,
  MAX_WRITE_PATHS,
  textOfAtMost,
} from "../../protocol/messages.js";

// The size of every string and list a tool takes: a model that loops or pastes a file is told in one line,
// before anything is rendered, stored or started. The socket checks the same limits again.

/** The longest free text: a goal, a constraint, a question, a check command. */
export const MAX_TEXT_CHARS = 10_000;
/** The most items of a list: pointers, constraints, sections, questions. */
export const MAX_LIST_ITEMS = 100;

/** A task: as large as a prompt may be. */
export const task = () => textOfAtMost(MAX_PROMPT_BYTES, "the task", "point the worker to files instead");
export const text = () => z.string().max(MAX_TEXT_CHARS, `must be at most ${MAX_TEXT_CHARS} characters`);
export const name = () => z.string().max(MAX_NAME_CHARS, `must be at most ${MAX_NAME_CHARS} characters`);
export const path = () => z.string().max(MAX_PATH_CHARS, `must be at most ${MAX_PATH_CHARS} characters`);
export const list = <T extends z.ZodType>(item: T, max = MAX_LIST_ITEMS) =>
  z.array(item).max(max, `must have at most ${max} items`);
export const writePaths = () => list(path().min(1), MAX_WRITE_PATHS);

export const workerId = z.string().regex(/^w[1-9][0-9]{0,8}$/, "worker ids look like w1, w2, ...");
