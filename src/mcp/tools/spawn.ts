import { resolve } from "node:path";
import { z } from "zod";
import { contextPackFromFlags } from "../../context/index.js";
import { MAX_COST_BUDGET_USD, MAX_LABEL_CHARS } from "../../protocol/messages.js";
import { LENSES } from "../../roles/index.js";
import { ROLES } from "../../worker/types.js";
import type { ConfiguredAgents } from "../agents.js";
import type { BatonSession } from "../session.js";
import { defineTool, type Tool } from "../tool.js";
import { list, name, path, task, text, workerId, writePaths } from "./limits.js";

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
  backend: name()
    .optional()
    .describe(
      "the agent: codex, claude, gemini, acp:gemini, acp:opencode, or a named agent of the config (listed in the tool's description; default: the workspace's; a follow-up: its parent's)",
    ),
  model: name().optional().describe("the model the agent uses (default: the backend's own)"),
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
      "several workers in one call, each {task, label?, role?, lens?, write?, readOnly?, backend?, model?}; the other fields apply to all",
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
  timeoutSeconds: z.number().positive().optional().describe("wall-clock limit (default 3600)"),
  maxCostUsd: z
    .number()
    .positive()
    .max(MAX_COST_BUDGET_USD)
    .optional()
    .describe(
      "stop each worker once it has cost more than this many US dollars (its model must have a price)",
    ),
  context: contextPack.optional(),
});

/** One worker's fields, or each of several workers' (`tasks`), with the shared ones filled in. */
function tasksOf(args: z.infer<typeof spawnInput>): z.infer<typeof spawnTask>[] {
  const { task, tasks, label, role, lens, readOnly, write, backend, model } = args;
  if (task !== undefined) return [{ task, label, role, lens, readOnly, write, backend, model }];
  return (tasks ?? []).map((own) => ({
    label,
    role,
    lens,
    readOnly,
    write,
    backend,
    model,
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

/** The tool that starts workers: one, or several in one call. */
export function spawnTool(session: BatonSession, cwd: string, agents: ConfiguredAgents): Tool {
  return defineTool({
    name: "spawn",
    description:
      "Start workers (each an agent CLI, codex unless backend says another) in the background: one with task, or several " +
      "in one call with tasks. Returns their ids at once, in order; they keep running. " +
      "Readers by default; give write paths (or role implementer) for a writer." +
      agents.sentence(),
    input: spawnInput,
    example: SPAWN_EXAMPLE,
    async run(args, signal) {
      const problem = taskProblem(args, SPAWN_EXAMPLE);
      if (problem) return { isError: true, text: problem };
      const {
        context,
        task: _task,
        tasks: _tasks,
        label,
        role,
        lens,
        readOnly,
        write,
        backend,
        model,
        ...shared
      } = args;
      const each = tasksOf(args);
      await agents.refuseCommandLines(each.map((own) => own.backend));
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
  });
}
