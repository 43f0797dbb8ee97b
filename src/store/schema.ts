import { z } from "zod";
import { WORKER_STATES } from "../worker/state.js";
import { ROLES, THREAD_ID } from "../worker/types.js";

// Files read back from disk are an edge: a crash or a person may have damaged them.

const usage = z.object({
  inputTokens: z.number(),
  cachedInputTokens: z.number(),
  outputTokens: z.number(),
  reasoningOutputTokens: z.number(),
});

const reason = z.union([
  z.object({ kind: z.literal("exit"), exitCode: z.number(), message: z.string().optional() }),
  z.object({ kind: z.literal("signal"), signal: z.number() }),
  z.object({ kind: z.literal("timeout"), limit: z.enum(["wall", "idle"]), seconds: z.number() }),
  z.object({
    kind: z.literal("budget"),
    scope: z.enum(["worker", "run"]),
    limit: z.number(),
    used: z.number(),
    unit: z.literal("usd").optional(),
  }),
  z.object({ kind: z.literal("stopped"), by: z.literal("user"), via: z.enum(["stop", "interrupt"]) }),
  z.object({ kind: z.literal("spawn_failed"), message: z.string() }),
  z.object({ kind: z.literal("supervisor_lost") }),
]);

const cost = z.union([
  z.object({
    usd: z.number().min(0),
    source: z.enum(["agent", "baton", "user"]),
    table: z.object({ source: z.string(), date: z.string(), model: z.string() }).optional(),
  }),
  // JSON drops an undefined `usd`: an unpriced cost is read back without the key.
  z.object({ usd: z.undefined().optional(), source: z.literal("unpriced"), why: z.string() }),
]);

/** What status.json and result.json say of a worker's model and dollars (absent in older stores). */
const spend = {
  model: z.string().optional(),
  cost: cost.optional(),
  threadUsd: z.number().min(0).optional(),
};

const state = z.enum(WORKER_STATES as [string, ...string[]]);
const role = z.enum(ROLES).optional();

export const specSchema = z.object({
  id: z.string(),
  label: z.string().optional(),
  role,
  scope: z.union([
    z.object({ kind: z.literal("read-only") }),
    z.object({ kind: z.literal("write"), paths: z.array(z.string()) }),
  ]),
  cwd: z.string(),
  model: z.string().optional(),
  timeoutSeconds: z.number(),
  idleTimeoutSeconds: z.number().default(600),
  maxTokens: z.number().optional(),
  maxCostUsd: z.number().optional(),
  retries: z.number().default(0),
  group: z
    .object({ id: z.string(), maxTokens: z.number().optional(), maxCostUsd: z.number().optional() })
    .optional(),
  backend: z.string(),
  bin: z.string(),
  task: z.string(),
  outputSchema: z.boolean().default(false),
  isolate: z.boolean().default(false),
  baseCommit: z
    .string()
    .regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/)
    .optional(),
  // Workers recorded before Baton confined them ran with the agent's own sandbox only.
  confinement: z.enum(["baton", "unconfined"]).default("unconfined"),
  createdAt: z.string(),
  continues: z.string().optional(),
  inThread: z.string().optional(),
  threadMessages: z.number().int().nonnegative().optional(),
  search: z.boolean().optional(),
  agentArgs: z.array(z.string()).optional(),
});

export const statusSchema = z.object({
  id: z.string(),
  state,
  pid: z.number().optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  exitCode: z.number().optional(),
  // Becomes an argument of `codex exec resume`: a hand-edited store must not turn it into a flag.
  threadId: z.string().regex(THREAD_ID).optional(),
  usage,
  retries: z.number().default(0),
  resumes: z.number().default(0),
  reason: reason.optional(),
  updatedAt: z.string(),
  ...spend,
});

export const resultSchema = z.object({
  id: z.string(),
  label: z.string().optional(),
  role,
  state,
  answer: z.string(),
  answerSource: z.enum(["events", "last-message-file", "none"]),
  answerMismatch: z.boolean(),
  exitCode: z.number().optional(),
  durationMs: z.number(),
  usage,
  retries: z.number().default(0),
  resumes: z.number().default(0),
  // Becomes an argument of `codex exec resume`: a hand-edited store must not turn it into a flag.
  threadId: z.string().regex(THREAD_ID).optional(),
  reason: reason.optional(),
  endedAt: z.string(),
  ...spend,
  isolation: z
    .object({
      branch: z.string(),
      commit: z.string().optional(),
      changedFiles: z.array(z.string()),
      conflicts: z.array(z.string()),
    })
    .optional(),
  confinement: z.enum(["baton", "unconfined"]).optional(),
  outsideScope: z
    .object({ moved: z.array(z.string()), left: z.array(z.string()), restored: z.array(z.string()) })
    .optional(),
  placement: z
    .object({
      host: z.string(),
      lostHosts: z.array(z.string()),
      resumed: z.enum(["thread", "rerun"]).optional(),
    })
    .optional(),
});

/** `cursors.json`: where each reader's last poll of a worker ended, in transcript bytes. */
export const cursorsSchema = z.record(z.string().min(1).max(100), z.number().int().nonnegative());
