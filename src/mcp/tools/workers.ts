import { resolve } from "node:path";
import { z } from "zod";
import { duration, reasonText } from "../../cli/render.js";
import { contextPackFromFlags } from "../../context/index.js";
import { MAX_IDS, MAX_LABEL_CHARS, MAX_SEND_BYTES, textOfAtMost } from "../../protocol/messages.js";
import { LENSES } from "../../roles/index.js";
import type { WaitResult } from "../../supervisor/supervisor.js";
import { isFinal } from "../../worker/state.js";
import { ROLES, type WorkerInfo } from "../../worker/types.js";
import type { BatonSession } from "../session.js";
import { defineTool, type Tool } from "../tool.js";
import { list, name, path, task, text, writePaths } from "./limits.js";

/** Poll's default and largest output: a model's context is the scarcest resource in the loop. */
export const POLL_DEFAULT_BYTES = 4096;
export const POLL_MAX_BYTES = 65_536;
/** MCP clients time a tool call out (codex: `tool_timeout_sec`, 60 s unless raised), so waits are short. */
export const WAIT_DEFAULT_SECONDS = 30;
export const WAIT_MAX_SECONDS = 600;
const POLL_READER = "mcp";

export const workerId = z.string().regex(/^w[1-9][0-9]{0,8}$/, "worker ids look like w1, w2, ...");
const workerIds = () => list(workerId, MAX_IDS);

const contextPack = z
  .strictObject({
    goal: text().optional().describe('what "good" looks like'),
    nonGoals: list(text()).optional().describe("what not to do"),
    constraints: list(text()).optional().describe("style, scope, must keep, must not change"),
    pointers: list(path()).optional().describe("key files or folders (must exist)"),
    priorDecisions: list(text()).optional().describe("why things are the way they are"),
    successCheck: text().optional().describe("how we know it is done"),
  })
  .describe("a context pack: what the worker cannot infer; skip it for simple tasks");

/** The most tasks one spawn call starts. */
export const MAX_SPAWN_TASKS = 64;

/** What each worker of a spawn may have of its own; the call's other fields are shared. */
const ownFields = {
  label: z
    .string()
    .max(MAX_LABEL_CHARS, `must be at most ${MAX_LABEL_CHARS} characters`)
    .optional()
    .describe("a short name, e.g. scout or review-security"),
  role: z.enum(ROLES).optional().describe("picks the worker template"),
  lens: name()
    .optional()
    .describe(`a reviewer's lens: ${LENSES.map((l) => l.id).join(", ")}`),
  readOnly: z.boolean().optional().describe("default true unless write is given or role is implementer"),
  write: writePaths().optional().describe("paths the worker may change (one writer per path)"),
};

const spawnTask = z.strictObject({
  task: task().min(1).describe("what this worker should do"),
  ...ownFields,
});

const spawnInput = z.strictObject({
  task: task()
    .min(1)
    .optional()
    .describe("what the worker should do; the worker preamble is added for you (or give tasks)"),
  ...ownFields,
  tasks: list(spawnTask, MAX_SPAWN_TASKS)
    .min(1, "give at least one task")
    .optional()
    .describe(
      "several workers in one call, each {task, label?, role?, lens?, write?, readOnly?}; the other fields apply to all",
    ),
  isolate: z.boolean().optional().describe("a writer works in its own git worktree; its change is a branch"),
  cwd: path()
    .optional()
    .describe("the worker's working directory (default: this server's; a follow-up: its parent's)"),
  continues: workerId
    .optional()
    .describe(
      "a follow-up: an ended worker's id; the new worker continues that agent thread with task as its next message",
    ),
  search: z.boolean().optional().describe("the agent's web search (default: on for role research)"),
  model: name().optional(),
  timeoutSeconds: z.number().positive().optional().describe("wall-clock limit (default 3600)"),
  context: contextPack.optional(),
});

/** One worker's fields, or each of several workers' (`tasks`), with the shared ones filled in. */
function tasksOf(args: z.infer<typeof spawnInput>): z.infer<typeof spawnTask>[] {
  const { task, tasks, label, role, lens, readOnly, write } = args;
  if (task !== undefined) return [{ task, label, role, lens, readOnly, write }];
  return (tasks ?? []).map((own) => ({
    label,
    role,
    lens,
    readOnly,
    write,
    ...withoutUndefined(own),
    task: own.task,
  }));
}

/** Neither `task` nor `tasks`, or both: what to say, as a bad argument is answered. */
function taskProblem(args: z.infer<typeof spawnInput>, example: unknown): string | undefined {
  if ((args.task === undefined) !== (args.tasks === undefined)) return undefined;
  const what = args.task === undefined ? 'field "task" is missing.' : "give task or tasks, not both.";
  return `spawn: ${what} Call it like: ${JSON.stringify(example)} or, for several workers, {"tasks": [{"task": "..."}, {"task": "...", "label": "..."}]}`;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const SPAWN_EXAMPLE = {
  task: "Map where config is loaded; list files and functions",
  role: "scout",
  label: "scout",
};

/** The tools that start, watch, steer and read workers: one library call each. */
export function workerTools(session: BatonSession, cwd: string): Tool[] {
  return [
    defineTool({
      name: "spawn",
      description:
        "Start workers (each a codex exec in its own terminal) in the background: one with task, or several " +
        "in one call with tasks. Returns their ids at once, one a line, in order; they keep running. " +
        "Readers by default; give write paths (or role implementer) for a writer.",
      input: spawnInput,
      example: SPAWN_EXAMPLE,
      async run(args, signal) {
        const problem = taskProblem(args, SPAWN_EXAMPLE);
        if (problem) return { isError: true, text: problem };
        const { context, task: _task, tasks: _tasks, label, role, lens, readOnly, write, ...shared } = args;
        const each = tasksOf(args);
        const workDir = resolve(cwd, args.cwd ?? ".");
        const pack = context
          ? contextPackFromFlags(
              {
                ...(context.goal ? { goal: context.goal } : {}),
                nonGoal: context.nonGoals ?? [],
                constraint: context.constraints ?? [],
                pointer: context.pointers ?? [],
                decision: context.priorDecisions ?? [],
                ...(context.successCheck ? { success: context.successCheck } : {}),
              },
              workDir,
            )
          : undefined;
        const baton = await session.open();
        const ids = await baton.spawnMany(
          each.map((own) => ({
            ...withoutUndefined(shared),
            ...withoutUndefined(own),
            task: own.task,
            // A follow-up given no cwd takes its parent's.
            ...(args.continues !== undefined && args.cwd === undefined ? {} : { cwd: workDir }),
            ...(pack ? { context: pack } : {}),
          })),
          signal,
        );
        return { text: ids.join("\n") };
      },
    }),
    defineTool({
      name: "poll",
      description:
        `What a worker printed since your last poll, without blocking. At most the last maxBytes (default ${POLL_DEFAULT_BYTES}) ` +
        "of new output; says how many earlier bytes were cut. Prefer result once it has ended.",
      input: z.strictObject({
        id: workerId,
        maxBytes: z.number().int().min(1).max(POLL_MAX_BYTES).optional(),
        waitSeconds: z
          .number()
          .min(0)
          .max(60)
          .optional()
          .describe("wait this long for new output (default 0)"),
        since: z.number().int().min(0).optional().describe("a cursor from an earlier poll, to read again"),
      }),
      example: { id: "w1", maxBytes: 2048 },
      readOnly: true,
      async run(args, signal) {
        const baton = await session.open();
        const polled = await baton.poll(
          args.id,
          {
            reader: POLL_READER,
            maxBytes: args.maxBytes ?? POLL_DEFAULT_BYTES,
            ...(args.since === undefined ? {} : { since: args.since }),
            ...(args.waitSeconds ? { waitMs: Math.round(args.waitSeconds * 1000) } : {}),
          },
          signal,
        );
        const cut = polled.cut > 0 ? `; ${polled.cut} earlier bytes cut` : "";
        const output = polled.output.replaceAll("\r\n", "\n");
        return {
          text: `${polled.id} ${polled.state}; cursor ${polled.cursor}${cut}\n${output || "(no new output)"}`,
        };
      },
    }),
    defineTool({
      name: "send",
      description: "Type text into a worker's terminal, then Enter (enter: false to leave it out).",
      input: z.strictObject({
        id: workerId,
        text: textOfAtMost(MAX_SEND_BYTES, "the text", "send less at a time"),
        enter: z.boolean().optional(),
      }),
      example: { id: "w1", text: "y" },
      async run(args, signal) {
        const baton = await session.open();
        await baton.send(args.id, args.text, args.enter === undefined ? {} : { enter: args.enter }, signal);
        return { text: `sent to ${args.id}` };
      },
    }),
    defineTool({
      name: "interrupt",
      description: "Send Ctrl+C to a worker's terminal. Use stop to end it for good.",
      input: z.strictObject({ id: workerId }),
      example: { id: "w1" },
      async run(args, signal) {
        const baton = await session.open();
        await baton.interrupt(args.id, signal);
        return { text: `interrupted ${args.id}` };
      },
    }),
    defineTool({
      name: "stop",
      description:
        "Stop workers: Ctrl+C, then SIGTERM, then SIGKILL after graceSeconds (default 3). Give ids, or all: true.",
      input: z.strictObject({
        ids: workerIds().optional(),
        all: z.boolean().optional(),
        graceSeconds: z.number().min(0).max(60).optional(),
      }),
      example: { ids: ["w2"] },
      async run(args, signal) {
        if (args.all === true && args.ids?.length) {
          return {
            isError: true,
            text: 'stop: give ids or all: true, not both. Call it like: {"ids": ["w2"]}',
          };
        }
        if (args.all !== true && !args.ids?.length) {
          return {
            isError: true,
            text: 'stop: say which workers. Call it like: {"ids": ["w2"]} or {"all": true}',
          };
        }
        const grace = args.graceSeconds === undefined ? {} : { graceSeconds: args.graceSeconds };
        const baton = await session.open();
        const stopped = await baton.stop(args.all ? "all" : (args.ids ?? []), grace, signal);
        return { text: stopped.length ? `stopped ${stopped.join(" ")}` : "nothing to stop" };
      },
    }),
    defineTool({
      name: "wait",
      description:
        `Block until the workers end (default: every unfinished one), or one of them with any: true, ` +
        `or timeoutSeconds pass (default ${WAIT_DEFAULT_SECONDS}, max ${WAIT_MAX_SECONDS}). Returns states only, at most ${WAIT_MAX_LINES} lines; read answers with result.`,
      input: z.strictObject({
        ids: workerIds().optional(),
        any: z.boolean().optional(),
        timeoutSeconds: z.number().positive().max(WAIT_MAX_SECONDS).optional(),
      }),
      example: { ids: ["w1", "w2"], timeoutSeconds: 30 },
      readOnly: true,
      async run(args, signal) {
        const baton = await session.open();
        const seconds = args.timeoutSeconds ?? WAIT_DEFAULT_SECONDS;
        const waited = await baton.wait(
          args.ids ?? [],
          { ...(args.any ? { any: true } : {}), timeoutMs: Math.round(seconds * 1000) },
          signal,
        );
        return { text: [headline(waited, seconds), ...stateLines(waited.workers)].join("\n") };
      },
    }),
  ];
}

/** At most this many workers are named in a wait's headline, and shown on a line of their own. */
const WAIT_MAX_NAMED = 20;
const WAIT_MAX_LINES = 50;

/** What a wait came to, in one line: it is what a model reads first. */
function headline(waited: WaitResult, seconds: number): string {
  const ids = (workers: readonly WorkerInfo[]) => {
    const more = workers.length - WAIT_MAX_NAMED;
    const named = workers.slice(0, WAIT_MAX_NAMED).map((w) => w.id);
    return more > 0 ? `${named.join(" ")} and ${more} more` : named.join(" ");
  };
  const running = waited.workers.filter((w) => !isFinal(w.state));
  if (waited.timedOut) return `still running after ${seconds}s: ${ids(running)} (call wait again, or poll)`;
  if (waited.workers.length === 0) return "no unfinished workers";
  if (running.length === 0) return "all ended";
  return `ended: ${ids(waited.workers.filter((w) => isFinal(w.state)))}`;
}

/** A line per worker, the ended ones first (they are the news), bounded; the rest are counted. */
function stateLines(workers: readonly WorkerInfo[]): string[] {
  const ordered = [...workers.filter((w) => isFinal(w.state)), ...workers.filter((w) => !isFinal(w.state))];
  const lines = ordered.slice(0, WAIT_MAX_LINES).map(stateLine);
  const more = ordered.length - lines.length;
  if (more > 0) lines.push(`(${more} more not shown: call list, or wait on fewer ids)`);
  return lines;
}

function stateLine(worker: WorkerInfo): string {
  const label = worker.label ? ` (${worker.label})` : "";
  const why = worker.state !== "succeeded" && isFinal(worker.state) ? `: ${reasonText(worker)}` : "";
  return `${worker.id}${label} ${worker.state}${why}, ${duration(worker.elapsedMs)}`;
}
