import { resolve } from "node:path";
import { z } from "zod";
import { contextPackFromFlags } from "../../context/index.js";
import { spentText } from "../../cost/total.js";
import { PATTERN_DEFAULTS } from "../../pattern/defaults.js";
import {
  PATTERN_NAMES,
  type PatternName,
  type PatternOptionsByName,
  type PatternOutcome,
  type RunEvent,
  runPattern,
} from "../../pattern/index.js";
import { MAX_COST_BUDGET_USD } from "../../protocol/limits.js";
import { LENSES } from "../../roles/index.js";
import type { ConfiguredAgents } from "../agents.js";
import type { BatonSession } from "../session.js";
import { defineTool, type Tool, type ToolAnswer } from "../tool.js";
import { list, path, task, text, writePaths } from "./limits.js";
import { agentFields, agentsOf, backendsOf, lensesOf } from "./pattern-agents.js";
import { WAIT_DEFAULT_SECONDS, WAIT_MAX_SECONDS } from "./workers.js";

const LENS_IDS = LENSES.map((l) => l.id) as [string, ...string[]];

const input = z.strictObject({
  pattern: z.enum(PATTERN_NAMES as [PatternName, ...PatternName[]]).optional(),
  task: task().min(1).optional().describe("what the run is about (the question, for research)"),
  ...agentFields(LENS_IDS),
  top: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(`fix: how many ranked issues to fix (default ${PATTERN_DEFAULTS.fix.top})`),
  check: text().optional().describe('fix: the command the verifier runs, e.g. "npm test"'),
  maxRounds: z
    .number()
    .int()
    .min(1)
    .max(10)
    .optional()
    .describe(`fix: fix → verify rounds (default ${PATTERN_DEFAULTS.fix.maxRounds})`),
  write: writePaths().optional().describe("fix, scout: paths the implementer may change (default cwd)"),
  sections: list(text()).min(2).optional().describe("sections: the slices, 2 or more"),
  edit: z.boolean().optional().describe("sections: each worker may edit its own slice"),
  questions: list(text()).optional().describe("research: sub-questions, one researcher each"),
  scholarly: z.boolean().optional().describe("research: references in APA 7"),
  search: z.boolean().optional().describe("research: the agent's web search (default on)"),
  count: z
    .number()
    .int()
    .min(2)
    .max(3)
    .optional()
    .describe(`options: 2 or 3 (default ${PATTERN_DEFAULTS.options.count})`),
  goal: text().optional().describe("context pack for every worker: what good looks like"),
  constraints: list(text()).optional().describe("context pack: constraints"),
  pointers: list(path()).optional().describe("context pack: key files (must exist)"),
  successCheck: text().optional().describe("context pack: how we know it is done"),
  cwd: path().optional(),
  timeoutSeconds: z.number().positive().optional().describe("each worker's wall-clock limit"),
  maxCostUsd: z
    .number()
    .positive()
    .max(MAX_COST_BUDGET_USD)
    .optional()
    .describe("stop a worker once it has cost more than this many US dollars"),
  runMaxCostUsd: z
    .number()
    .positive()
    .max(MAX_COST_BUDGET_USD)
    .optional()
    .describe("stop every worker of the run once together they have cost more than this many US dollars"),
  run: z
    .string()
    .max(20, "must be a run id such as p1")
    .optional()
    .describe("instead of starting: the id of a run this server started, to wait again"),
  waitSeconds: z
    .number()
    .min(0)
    .max(WAIT_MAX_SECONDS)
    .optional()
    .describe(`how long to wait for the result (default ${WAIT_DEFAULT_SECONDS})`),
});
type Input = z.infer<typeof input>;

/** A pattern run this server started; it goes on between calls. */
interface Handle {
  readonly id: string;
  readonly pattern: PatternName;
  readonly done: Promise<ToolAnswer>;
  readonly progress: Progress;
}

/** The pattern runs one server started; they go on between calls. */
export class PatternRuns {
  readonly handles = new Map<string, Handle>();

  /** Resolves once every run has ended: after a shutdown, once their workers are stopped. */
  async settled(): Promise<void> {
    await Promise.all([...this.handles.values()].map((handle) => handle.done));
  }
}

/** Where a run is, for the answer to a call that returns before it ends. */
interface Progress {
  step: string;
  readonly running: Set<string>;
}

function track(progress: Progress, event: RunEvent): void {
  if (event.type === "step") progress.step = event.step;
  else if (event.type === "worker_started") progress.running.add(event.id);
  else if (event.type === "worker_ended") progress.running.delete(event.id);
}

/**
 * `run_pattern`: one of the six patterns to ONE result. A run takes minutes and MCP clients time calls
 * out, so the call waits at most `waitSeconds`; a run still going is named, and the same tool with
 * `{"run": id}` waits again. Runs still going when the server ends are stopped, with their workers.
 */
export function patternTool(
  session: BatonSession,
  cwd: string,
  shutdown: AbortSignal,
  runs: PatternRuns,
  agents: ConfiguredAgents,
): Tool {
  const handles = runs.handles;
  return defineTool({
    name: "run_pattern",
    description:
      `Run an orchestration pattern to ONE curated result: ${PATTERN_NAMES.join(", ")}. Waits up to waitSeconds ` +
      `(default ${WAIT_DEFAULT_SECONDS}); if still running, returns a run id: call again with {"run": id}.` +
      agents.sentence(),
    input,
    example: {
      pattern: "review",
      task: "Review src/auth/ for the login rewrite",
      lenses: ["security", "correctness"],
    },
    async run(args, signal) {
      const wait = (args.waitSeconds ?? WAIT_DEFAULT_SECONDS) * 1000;
      if (args.run !== undefined) {
        const handle = handles.get(args.run);
        if (!handle) {
          const known = [...handles.keys()].join(", ") || "none yet";
          return { isError: true, text: `run_pattern: no run "${args.run}" here (runs: ${known})` };
        }
        return waitFor(handle, wait, signal);
      }
      if (!args.pattern || !args.task) {
        return {
          isError: true,
          text: `run_pattern: give pattern and task, or run to wait again. Call it like: {"pattern": "review", "task": "Review src/auth/"}`,
        };
      }
      await agents.refuseCommandLines(backendsOf(args));
      const workDir = resolve(cwd, args.cwd ?? ".");
      const options = patternOptions(args.pattern, args.task, args, workDir);
      const context = contextPackFromFlags(
        {
          ...(args.goal ? { goal: args.goal } : {}),
          constraint: args.constraints ?? [],
          pointer: args.pointers ?? [],
          ...(args.successCheck ? { success: args.successCheck } : {}),
        },
        workDir,
      );
      const progress: Progress = { step: "starting", running: new Set() };
      const done = runPattern(await session.open(), args.pattern, options, {
        cwd: workDir,
        ...(context ? { context } : {}),
        ...(args.timeoutSeconds ? { timeoutSeconds: args.timeoutSeconds } : {}),
        ...(args.maxCostUsd ? { maxCostUsd: args.maxCostUsd } : {}),
        ...(args.runMaxCostUsd ? { runMaxCostUsd: args.runMaxCostUsd } : {}),
        ...agentsOf(args),
        signal: shutdown,
        onEvent: (event) => track(progress, event),
      }).then(outcomeText, (error: Error) => ({
        isError: true,
        text: `run_pattern ${args.pattern} failed: ${error.message}`,
      }));
      const handle: Handle = { id: `p${handles.size + 1}`, pattern: args.pattern, done, progress };
      handles.set(handle.id, handle);
      return waitFor(handle, wait, signal);
    },
  });
}

async function waitFor(handle: Handle, ms: number, signal: AbortSignal): Promise<ToolAnswer> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeUp = new Promise<undefined>((resolveTimer) => {
    timer = setTimeout(() => resolveTimer(undefined), ms);
    signal.addEventListener("abort", () => resolveTimer(undefined), { once: true });
  });
  try {
    const answer = await Promise.race([handle.done, timeUp]);
    if (answer) return answer;
  } finally {
    clearTimeout(timer);
  }
  const { step, running } = handle.progress;
  const workers = running.size ? `; workers running: ${[...running].join(" ")}` : "";
  return {
    text: `run ${handle.id} (${handle.pattern}) is still running, at step "${step}"${workers}. Call run_pattern with {"run": "${handle.id}"} to wait again.`,
  };
}

function outcomeText(outcome: PatternOutcome): ToolAnswer {
  const spent = outcome.spent ? `Spent: ${spentText(outcome.spent)}\n` : "";
  return {
    text: `${outcome.markdown.trim()}\n\n${spent}(run ${outcome.runId}, saved in ${outcome.dir}/result.md)`,
  };
}

/** The pattern's options, with the same defaults as `baton run <pattern>`. */
function patternOptions(
  name: PatternName,
  task: string,
  args: Input,
  cwd: string,
): PatternOptionsByName[PatternName] {
  // None given: the implementer writes its cwd, less the run store (the supervisor's rule).
  const write = (args.write ?? []).map((p) => resolve(cwd, p));
  switch (name) {
    case "review":
      return { task, ...lensesOf(args) };
    case "fix":
      return {
        task,
        top: args.top ?? PATTERN_DEFAULTS.fix.top,
        check: args.check,
        maxRounds: args.maxRounds ?? PATTERN_DEFAULTS.fix.maxRounds,
        write,
      };
    case "scout":
      return { task, write };
    case "sections":
      return {
        task,
        sections: (args.sections ?? []).map((s) => (args.edit ? resolve(cwd, s) : s)),
        edit: args.edit === true,
      };
    case "research":
      return {
        question: task,
        questions: args.questions ?? [],
        scholarly: args.scholarly === true,
        ...(args.search === false ? { search: false } : {}),
      };
    case "options":
      return { task, count: args.count ?? PATTERN_DEFAULTS.options.count };
  }
}
