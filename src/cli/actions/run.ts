import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { Baton } from "../../client/baton.js";
import { loadNamedAgents } from "../../client/named-agents.js";
import { closest } from "../../context/suggest.js";
import { spentText } from "../../cost/total.js";
import { BatonError } from "../../errors.js";
import { type AgentChoice, parseRoleAgent, withNames } from "../../pattern/agents.js";
import {
  checkPattern,
  PATTERN_NAMES,
  type PatternName,
  type PatternOutcome,
  type PatternRunOptions,
  progressPrinter,
  type RunEvent,
  runPattern,
  settleAgents,
} from "../../pattern/index.js";
import { resolveHome } from "../../store/home.js";
import { loadWorkflow, runWorkflow, WORKFLOW_FILE } from "../../workflow/index.js";
import { addRunOptions, type PatternCommand } from "../commands/run.js";
import { ExitWith, type GlobalOptions, printJson, writeErr, writeOut } from "../context.js";
import { interruptible } from "../interruptible.js";
import { processIo } from "../io.js";
import { limitSettings } from "../limits.js";
import { promptSettings } from "../prompt-settings.js";

/** `baton run PATTERN`. */
export async function runCommand(
  spec: PatternCommand<PatternName>,
  task: string,
  opts: Record<string, unknown>,
  global: GlobalOptions,
): Promise<void> {
  if (!task.trim()) throw new BatonError("usage", "the task is empty: say what the run is about");
  const cwd = resolve(String(opts.cwd ?? "."));
  const home = global.home ?? resolveHome();
  const settings = await promptSettings(opts, cwd, home);
  const names = await backendNames();
  // `--lens x=acp:gemini` was split at its first ":" while the flags were read: again, knowing the names.
  const lenses = opts.lens as { key: string; agent?: AgentChoice }[] | undefined;
  const lens = lenses?.map((l) => (l.agent ? { ...l, agent: withNames(l.agent, "--lens", names) } : l));
  const options = spec.build(task, { ...opts, ...(lens ? { lens } : {}) } as never, cwd);
  // A mistake (a lens count, a backend's name) is told before a supervisor or a run is started.
  const runOptions = await settleAgents(home, {
    cwd,
    ...(settings.context ? { context: settings.context } : {}),
    templates: settings.templates,
    ...workerOptions(opts, names),
  });
  checkPattern(spec.name, options, runOptions.agents);
  await runToResult(home, cwd, opts, (baton, signal, onEvent) =>
    runPattern(baton, spec.name, options, { ...runOptions, signal, onEvent }),
  );
}

/** `baton run FILE.yaml`. */
export async function workflowCommand(args: readonly string[], global: GlobalOptions): Promise<void> {
  // Lenient first, so that `baton run revew --lens x ...` is told about the pattern name, not the option.
  const parser = addRunOptions(new Command("run").argument("[workflow]"))
    .allowUnknownOption()
    .allowExcessArguments()
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} });
  parser.parse([...args], { from: "user" });
  const [file, ...rest] = parser.args;
  const opts = parser.opts<Record<string, unknown>>();
  if (file === undefined || file.startsWith("-")) {
    throw new BatonError(
      "usage",
      `say what to run: a pattern (${PATTERN_NAMES.join(", ")}) or a workflow file ending in .yaml or .yml`,
    );
  }
  if (!WORKFLOW_FILE.test(file)) {
    const guess = closest(file, PATTERN_NAMES);
    throw new BatonError(
      "usage",
      `"${file}" is neither a pattern nor a workflow file: ${guess ? `did you mean "${guess}"?` : `run one of ${PATTERN_NAMES.join(", ")}, or a file ending in .yaml or .yml`}`,
    );
  }
  const unknown = rest.find((arg) => arg.startsWith("-"));
  if (unknown) throw new BatonError("usage", `unknown option '${unknown}' for a workflow run`);
  if (rest.length > 0) {
    throw new BatonError("usage", `a workflow run takes one file, got more: "${rest.join(" ")}"`);
  }
  const home = global.home ?? resolveHome();
  // A step may name one of the config's named agents as its backend.
  const agents = Object.keys(await loadNamedAgents(home));
  const workflow = await loadWorkflow(file, {
    ...(parser.getOptionValueSource("cwd") === "cli" ? { cwd: String(opts.cwd) } : {}),
    agents,
  });
  // Context flags add to the file's pack; a --context file and pointers are relative to the workers' cwd.
  const settings = await promptSettings(opts, workflow.cwd, home);
  const names = await backendNames();
  await settleAgents(home, workerOptions(opts, names)); // a backend's name is checked before anything starts
  await runToResult(home, workflow.cwd, opts, (baton, signal, onEvent) =>
    runWorkflow(baton, workflow, {
      ...(settings.context ? { context: settings.context } : {}),
      templates: settings.templates,
      ...workerOptions(opts, names),
      signal,
      onEvent,
    }),
  );
}

const workerOptions = (opts: Record<string, unknown>, names: readonly string[]) => ({
  ...(typeof opts.timeout === "number" ? { timeoutSeconds: opts.timeout } : {}),
  ...limitSettings(opts),
  ...(typeof opts.runMaxTokens === "number" ? { runMaxTokens: opts.runMaxTokens } : {}),
  ...(typeof opts.runMaxCost === "number" ? { runMaxCostUsd: opts.runMaxCost } : {}),
  ...agentOptions(opts, names),
});

/** The backends Baton knows (loaded only when a run starts). */
const backendNames = async () => (await import("../../backend/names.js")).BACKEND_NAMES;

/** The run's backend and model, each role's agent, each backend's binary and command, from the flags. */
function agentOptions(
  opts: Record<string, unknown>,
  names: readonly string[],
): Pick<PatternRunOptions, "backend" | "model" | "roleAgents" | "bins" | "commands"> {
  const roles = ((opts.roleBackend as string[] | undefined) ?? []).map((text) => parseRoleAgent(text, names));
  const commands = {
    ...(typeof opts.cmd === "string" ? { command: opts.cmd } : {}),
    ...(typeof opts.agentCmd === "string" ? { acp: opts.agentCmd } : {}),
  };
  const roleAgents = Object.fromEntries(roles.map(({ role, agent }) => [role, agent]));
  const bins = Object.fromEntries(
    (["codex", "claude", "gemini"] as const).flatMap((backend) => {
      const bin = opts[`${backend}Bin`];
      return typeof bin === "string" ? [[backend, resolve(bin)]] : [];
    }),
  );
  return {
    ...(typeof opts.backend === "string" ? { backend: opts.backend } : {}),
    ...(typeof opts.model === "string" ? { model: opts.model } : {}),
    ...(roles.length > 0 ? { roleAgents } : {}),
    ...(Object.keys(bins).length > 0 ? { bins } : {}),
    ...(Object.keys(commands).length > 0 ? { commands } : {}),
  };
}

/**
 * Runs to one result and prints it. The first Ctrl+C stops the run's workers gracefully and prints
 * what each got to (also saved as the run's summary.md); a second Ctrl+C forces them. Exit 130.
 */
export async function runToResult(
  home: string,
  cwd: string,
  opts: Record<string, unknown>,
  execute: (baton: Baton, signal: AbortSignal, onEvent: (event: RunEvent) => void) => Promise<PatternOutcome>,
): Promise<void> {
  const controller = new AbortController();
  const baton = await Baton.open({ home, cwd });
  const stopper = interruptible(controller, () => runWorkersOf(home), baton, processIo);
  const progress = await liveProgress(baton, opts);
  // Once the run has ended, a worker still being waited on inside it prints nothing more after the result.
  let ended = false;
  const onEvent = (event: RunEvent) => {
    if (!ended) progress.onEvent(event);
  };
  try {
    const outcome = await execute(baton, controller.signal, onEvent).finally(() => {
      ended = true;
    });
    progress.stop();
    if (opts.json)
      printJson({
        run: outcome.runId,
        dir: outcome.dir,
        workers: outcome.workers,
        ...(outcome.spent ? { spent: outcome.spent } : {}),
        result: outcome.data,
        markdown: outcome.markdown,
      });
    else writeOut(`${outcome.markdown}\n(saved in ${outcome.dir}/result.md)\n`);
    // What the run cost, after its result: on stderr, with the progress it ends.
    if (outcome.spent) writeErr(`run ${outcome.runId}: ${spentText(outcome.spent)}\n`);
  } catch (error) {
    progress.stop();
    if (controller.signal.aborted) {
      const summary = /summary in (\S+)$/.exec((error as Error).message)?.[1];
      if (summary) writeOut(await readFile(summary, "utf8").catch(() => ""));
      throw new ExitWith(130, (error as Error).message);
    }
    throw error;
  } finally {
    progress.stop();
    stopper.dispose();
    baton.close();
  }
}

/**
 * How a run shows itself as it goes: one line per step, worker start and end, and note; on a terminal
 * (and not for --json) with a live line per worker of the run under them (state, elapsed, tokens).
 */
async function liveProgress(
  baton: Baton,
  opts: Record<string, unknown>,
): Promise<{ onEvent: (event: RunEvent) => void; stop(): void }> {
  if (process.stderr.isTTY !== true || opts.json) {
    return { onEvent: progressPrinter(process.stderr), stop: () => {} };
  }
  const mine = new Set<string>();
  const { waitProgress } = await import("../../tui/wait-progress.js");
  const live = waitProgress(baton, [], { live: process.stderr, select: (worker) => mine.has(worker.id) });
  const print = progressPrinter(process.stderr, (text) => live.above(text));
  return {
    onEvent: (event) => {
      if (event.type === "worker_started") mine.add(event.id);
      print(event);
    },
    stop: () => live.stop(),
  };
}

/** The workers of the newest running run in this store: the ones a forced stop must end. */
async function runWorkersOf(home: string): Promise<string[]> {
  const runs = join(home, "runs");
  const names = (await readdir(runs).catch(() => [] as string[])).filter((n) => /^r\d+$/.test(n));
  const newest = names.sort((a, b) => Number(b.slice(1)) - Number(a.slice(1)));
  for (const name of newest) {
    const state = JSON.parse(await readFile(join(runs, name, "run.json"), "utf8").catch(() => "{}")) as {
      owner?: number;
      workers?: { id: string }[];
    };
    if (state.owner === process.pid) return (state.workers ?? []).map((w) => w.id);
  }
  return [];
}
