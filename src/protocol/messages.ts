import { isAbsolute } from "node:path";
import { z } from "zod";
import { EVENT_TYPES } from "../events/types.js";
import { ROLES, THREAD_ID } from "../worker/types.js";
import {
  MAX_COST_BUDGET_USD,
  MAX_GRACE_SECONDS,
  MAX_IDS,
  MAX_LABEL_CHARS,
  MAX_NAME_CHARS,
  MAX_PARALLEL_LIMIT,
  MAX_PATH_CHARS,
  MAX_POLL_BYTES,
  MAX_POLL_WAIT_MS,
  MAX_PROMPT_BYTES,
  MAX_RETRIES,
  MAX_SEND_BYTES,
  MAX_TIMEOUT_SECONDS,
  MAX_TOKEN_BUDGET,
  MAX_WAIT_MS,
  MAX_WRITE_PATHS,
} from "./limits.js";

// Requests that cross the supervisor's socket: an edge, so every one is validated.

export * from "./limits.js";

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/** A string of at most `max` bytes, whose error says how big it is and what to do. */
export function textOfAtMost(max: number, what: string, fix: string) {
  return z.string().superRefine((text, context) => {
    // Characters first: a string of fewer characters than `max / 3` cannot be over in UTF-8.
    if (text.length * 3 <= max) return;
    const bytes = Buffer.byteLength(text);
    if (bytes > max) {
      context.addIssue({
        code: "custom",
        message: `${what} is ${mib(bytes)}, more than the ${mib(max)} it may be: ${fix}`,
      });
    }
  });
}

const path = z.string().min(1).max(MAX_PATH_CHARS, `a path is longer than ${MAX_PATH_CHARS} characters`);
const name = z
  .string()
  .max(MAX_NAME_CHARS, `must be at most ${MAX_NAME_CHARS} characters`)
  .refine((text) => text.trim().length > 0, "must not be empty: give a name, or leave the option out")
  .refine((text) => !/[\0-\x1f\x7f-\x9f]/.test(text), "must not contain control characters");
const prompt = (what: string) =>
  textOfAtMost(MAX_PROMPT_BYTES, what, "point the worker to files instead of pasting them");

const workerId = z.string().regex(/^w[1-9][0-9]{0,8}$/, "worker ids look like w1, w2, ...");
const workerIds = z.array(workerId).max(MAX_IDS, `name at most ${MAX_IDS} workers`);
const tokenBudget = z
  .number()
  .int("must be a whole number of tokens")
  .positive("must be a positive number of tokens")
  .max(MAX_TOKEN_BUDGET, `must be at most ${MAX_TOKEN_BUDGET} tokens`);
const costBudget = z
  .number()
  .positive("must be a positive number of US dollars")
  .max(MAX_COST_BUDGET_USD, `must be at most ${MAX_COST_BUDGET_USD} US dollars`);
const positiveSeconds = z
  .number()
  .positive("must be a positive number of seconds")
  .max(MAX_TIMEOUT_SECONDS, `must be at most ${MAX_TIMEOUT_SECONDS} seconds`);

export const spawnParams = z.strictObject({
  task: prompt("the task")
    .refine((task) => task.trim().length > 0, "the prompt is empty: give the worker a task")
    .refine((task) => !task.includes("\0"), "the prompt contains a NUL byte: remove it"),
  label: z
    .string()
    .max(MAX_LABEL_CHARS, `the label is longer than ${MAX_LABEL_CHARS} characters`)
    .refine((label) => !/[\0-\x1f\x7f-\x9f]/.test(label), "the label contains control characters")
    .refine((label) => label.trim().length > 0, "the label is empty: give a name, or leave --label out")
    .optional(),
  role: z.enum(ROLES).optional(),
  readOnly: z.boolean().optional(),
  write: z.array(path).max(MAX_WRITE_PATHS, `give at most ${MAX_WRITE_PATHS} write paths`).optional(),
  /** Required, but for a follow-up (`continues`), which takes its parent's. */
  cwd: path.refine((cwd) => isAbsolute(cwd), "must be an absolute path").optional(),
  model: name.optional(),
  timeoutSeconds: positiveSeconds.optional(),
  idleTimeoutSeconds: positiveSeconds.optional(),
  maxTokens: tokenBudget.optional(),
  maxCostUsd: costBudget.optional(),
  retries: z.number().int().min(0).max(MAX_RETRIES, `must be at most ${MAX_RETRIES}`).optional(),
  group: z
    .strictObject({
      id: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be a short name of letters, digits, . _ -"),
      maxTokens: tokenBudget.optional(),
      maxCostUsd: costBudget.optional(),
    })
    .optional(),
  backend: name.optional(),
  bin: path.optional(),
  maxParallel: z.number().int().min(1).max(MAX_PARALLEL_LIMIT).optional(),
  noWait: z.boolean().optional(),
  isolate: z.boolean().optional(),
  unconfined: z.boolean().optional(),
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  prompt: prompt("the prompt").optional(),
  /** Continue the agent thread of this ended worker (a follow-up); unset options are taken from it. */
  continues: workerId.optional(),
  /**
   * Continue this agent thread, cut off with the run that had it (a host taking over a lost worker's
   * job): the worker's first attempt resumes it with a short "continue" prompt. Its backend must resume.
   */
  resumeThread: z.string().regex(THREAD_ID, "must be an agent thread id").optional(),
  /**
   * A follow-up in this agent thread, whose parent ran elsewhere (a host running a follow-up its
   * coordinator admitted): its prompt goes as given, as `continues` sends it.
   */
  inThread: z.string().regex(THREAD_ID, "must be an agent thread id").optional(),
  /**
   * The commit an `isolate` writer starts from, instead of HEAD (a host running a writer its
   * coordinator admitted: the commit that spawn recorded). The repository must have it.
   */
  isolateFrom: z
    .string()
    .regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/, "must be a full commit id")
    .optional(),
  /** The agent's web search: on or off; unset, on for the research role and the agent's default otherwise. */
  search: z.boolean().optional(),
  /**
   * The agent's command line for the command and acp backends (`--cmd`, `--agent-cmd`), split into
   * argv without a shell; its program is found as a binary is.
   */
  agentCommand: z
    .string()
    .min(1)
    .max(MAX_PATH_CHARS, `the command is longer than ${MAX_PATH_CHARS} characters`)
    .optional(),
  env: z.record(z.string(), z.string()),
});
export type SpawnParams = z.infer<typeof spawnParams>;

export const pollParams = z.strictObject({
  id: workerId,
  reader: z.string().min(1).max(100, "must be at most 100 characters").optional(),
  since: z.number().int().min(0).optional(),
  waitMs: z.number().int().min(0).max(MAX_POLL_WAIT_MS).optional(),
  maxBytes: z.number().int().min(1).max(MAX_POLL_BYTES).optional(),
  /** Show whole lines only: the cursor stops before a line still being written (a readable poll). */
  wholeLines: z.boolean().optional(),
});
export type PollParams = z.infer<typeof pollParams>;

export const sendParams = z.strictObject({
  id: workerId,
  text: textOfAtMost(MAX_SEND_BYTES, "the text", "send less at a time"),
  enter: z.boolean().optional(),
});
export const idParams = z.strictObject({ id: workerId });
export const stopParams = z.strictObject({
  ids: workerIds.optional(),
  all: z.boolean().optional(),
  graceSeconds: z.number().min(0).max(MAX_GRACE_SECONDS).optional(),
});
export const waitParams = z.strictObject({
  ids: workerIds.optional(),
  any: z.boolean().optional(),
  timeoutMs: z.number().int().positive().max(MAX_WAIT_MS).optional(),
});
export const resumeParams = z.strictObject({
  ids: workerIds.optional(),
  env: z.record(z.string(), z.string()),
});
export type ResumeParams = z.infer<typeof resumeParams>;

/** `list`: every worker, or only those named (what `wait` follows). */
export const listParams = z.strictObject({ workers: workerIds.optional() });

export const eventsParams = z.strictObject({
  since: z.number().int().min(0),
  max: z.number().int().min(1).max(1_000).optional(),
  waitMs: z.number().int().min(0).max(MAX_WAIT_MS).optional(),
  workers: workerIds.optional(),
  types: z.array(z.enum(EVENT_TYPES)).max(EVENT_TYPES.length).optional(),
});

const runName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be a run id");
const shortText = z.string().max(200).optional();

/** What a run, or `baton plan`, tells the event stream (they run in the caller's process). */
export const publishParams = z.strictObject({
  event: z.discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("plan"),
      steps: z.number().int().min(0).max(10_000),
      done: z.number().int().min(0).max(10_000),
    }),
    z.strictObject({
      type: z.literal("run"),
      run: runName,
      pattern: z.string().min(1).max(100),
      phase: z.enum(["started", "ended"]),
      state: shortText,
    }),
    z.strictObject({
      type: z.literal("step"),
      run: runName,
      step: z.string().min(1).max(2_000),
      phase: z.enum(["started", "ended"]),
      workers: workerIds,
    }),
  ]),
});

export const configureParams = z.strictObject({
  maxParallel: z.number().int().min(1).max(MAX_PARALLEL_LIMIT),
});

/** The first request on every connection: the client's own pid, which the supervisor checks. */
export const helloParams = z.strictObject({
  pid: z
    .number()
    .int()
    .min(2, "must be the client's own pid")
    .max(2 ** 22),
  /** The secret of the client's proof that `pid` is its own (see caller-proof.ts). */
  proof: z
    .string()
    .regex(/^[0-9a-f]{64}$/, "must be the 64 hex digits of the client's proof")
    .optional(),
});

/**
 * `cli`: a command line of the native client (native/baton.c), run by the supervisor as the quick path
 * would run it in a process of its own, with the client's folder, environment and terminals.
 */
const terminalParams = z.strictObject({
  tty: z.boolean(),
  columns: z.number().int().min(1).max(10_000).optional(),
  rows: z.number().int().min(1).max(10_000).optional(),
});
export const cliParams = z.strictObject({
  argv: z.array(z.string()).max(4096),
  cwd: z.string().refine(isAbsolute, "must be an absolute path"),
  env: z.record(z.string(), z.string()),
  out: terminalParams,
  err: terminalParams,
});

/** `resize`: the native client's terminal changed size while request `id` (a `cli`) runs. */
export const resizeParams = z.strictObject({
  id: z.number().int(),
  out: terminalParams,
  err: terminalParams,
});

export const request = z.object({
  id: z.number().int(),
  method: z.string(),
  params: z.unknown().optional(),
});
export type Request = z.infer<typeof request>;

export type Response =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | {
      readonly id: number;
      readonly ok: false;
      readonly error: { readonly code: string; readonly message: string };
    };

/** Turns the first zod issue into one line that names the field. */
export function describeIssue(error: z.ZodError, what: string): string {
  const issue = error.issues[0];
  if (!issue) return `invalid ${what}`;
  const field = issue.path.length > 0 ? issue.path.join(".") : what;
  if (issue.code === "unrecognized_keys")
    return `${what}: unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  return `${field}: ${issue.message}`;
}
