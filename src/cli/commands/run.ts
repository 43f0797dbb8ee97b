import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { BatonError } from "../../errors.js";
import { type AgentChoice, parseKeyed, parseRoleAgent, ROLE_KEYS } from "../../pattern/agents.js";
import { PATTERN_DEFAULTS } from "../../pattern/defaults.js";
import type { PatternName, PatternOptionsByName } from "../../pattern/index.js";
import { MAX_TIMEOUT_SECONDS } from "../../protocol/limits.js";
import { LENSES } from "../../roles/lenses.js";
import { type GlobalOptions, positiveInteger, positiveNumber } from "../context.js";
import { addLimitOptions, dollars } from "../limits.js";
import { addPromptOptions } from "../prompt-options.js";

// What a run does is in ../actions/run.ts, loaded only when one runs.
const actions = () => import("../actions/run.js");

const collect = (value: string, all: string[] = []) => [...all, value];
/** `--lens security=claude` as parsed: the lens, and its agent when it names one. */
type Keyed = { key: string; agent?: AgentChoice };
const LENS_IDS = LENSES.map((l) => l.id);

type Build<K extends PatternName> = (
  task: string,
  opts: Record<string, never> & Record<string, unknown>,
  cwd: string,
) => PatternOptionsByName[K];

export interface PatternCommand<K extends PatternName> {
  readonly name: K;
  readonly summary: string;
  readonly example: string;
  readonly options: (command: Command) => Command;
  readonly build: Build<K>;
}

// None given: the implementer writes its cwd, less the run store (the supervisor's rule).
const writePaths = (opts: Record<string, unknown>, cwd: string) =>
  ((opts.write as string[] | undefined) ?? []).map((p) => resolve(cwd, p));

const COMMANDS: { [K in PatternName]: PatternCommand<K> } = {
  review: {
    name: "review",
    summary:
      "triangulated review: 2 to 4 read-only reviewers with different lenses, merged into one ranked list",
    example:
      'baton run review --lens security --lens correctness --lens performance "Review src/auth/ for the login rewrite"',
    options: (c) =>
      c.addOption(
        new Option(
          "--lens <lens[=backend[:model]]>",
          `a reviewer's lens (repeat 2 to 4 times; default ${PATTERN_DEFAULTS.review.lenses.join(", ")}); one of ${LENS_IDS.join(", ")}; =BACKEND runs it on that backend (e.g. security=claude), else on the run's`,
        ).argParser((value: string, all: Keyed[] = []) => {
          const keyed = parseKeyed(value, "--lens");
          if (!LENS_IDS.includes(keyed.key as never)) {
            throw new BatonError(
              "usage",
              `--lens "${keyed.key}" is not a lens: choose from ${LENS_IDS.join(", ")}`,
            );
          }
          return [...all, keyed];
        }),
      ),
    build: (task, opts) => {
      const given = opts.lens as Keyed[] | undefined;
      if (!given) return { task, lenses: PATTERN_DEFAULTS.review.lenses };
      const agents = given.map((lens) => lens.agent ?? null);
      return {
        task,
        lenses: given.map((lens) => lens.key),
        ...(agents.some((agent) => agent !== null) ? { agents } : {}),
      };
    },
  },
  fix: {
    name: "fix",
    summary:
      "review → fix → verify: a reviewer ranks issues, an implementer fixes the top N, a verifier runs the checks",
    example:
      'baton run fix --top 3 --check "npm test" --write src "Fix the failing date parsing in src/dates.ts"',
    options: (c) =>
      c
        .option(
          "--top <n>",
          `how many ranked issues to fix (default ${PATTERN_DEFAULTS.fix.top})`,
          positiveInteger("--top"),
        )
        .option("--check <command>", 'the check the verifier runs, e.g. "npm test"')
        .option(
          "--max-rounds <k>",
          `at most this many fix → verify rounds (default ${PATTERN_DEFAULTS.fix.maxRounds})`,
          positiveInteger("--max-rounds"),
        )
        .option(
          "--write <path>",
          "a path the implementer may change (repeatable; default: the cwd)",
          collect,
        ),
    build: (task, opts, cwd) => ({
      task,
      top: (opts.top as number | undefined) ?? PATTERN_DEFAULTS.fix.top,
      check: opts.check as string | undefined,
      maxRounds: (opts.maxRounds as number | undefined) ?? PATTERN_DEFAULTS.fix.maxRounds,
      write: writePaths(opts, cwd),
    }),
  },
  scout: {
    name: "scout",
    summary:
      "scout → act → verify: a scout gathers the minimum context, condensed into a context pack, then implement and verify",
    example: 'baton run scout --write src "Add a --verbose flag to the CLI"',
    options: (c) =>
      c.option("--write <path>", "a path the implementer may change (repeatable; default: the cwd)", collect),
    build: (task, opts, cwd) => ({ task, write: writePaths(opts, cwd) }),
  },
  sections: {
    name: "sections",
    summary:
      "split by sections: each worker owns one slice (files, folders or list items), then a merge for consistency",
    example:
      'baton run sections --section docs/intro.md --section docs/usage.md --edit "Tighten the prose; keep terminology consistent"',
    options: (c) =>
      c
        .option(
          "--section <slice>",
          "one slice: a file, a folder or a list item (repeat, 2 or more)",
          collect,
        )
        .option("--edit", "each worker may edit its own slice"),
    build: (task, opts, cwd) => ({
      task,
      sections: ((opts.section as string[] | undefined) ?? []).map((s) => (opts.edit ? resolve(cwd, s) : s)),
      edit: opts.edit === true,
    }),
  },
  research: {
    name: "research",
    summary:
      "research → synthesis → next actions: parallel researchers, one decision-ready brief with sources",
    example:
      'baton run research --question "What do the docs say?" --question "What do users report?" "Should we adopt X?"',
    options: (c) =>
      c
        .option(
          "--question <text>",
          "a sub-question for one researcher (repeatable; default: the main question)",
          collect,
        )
        .option("--scholarly", "scholarly work: references in APA 7")
        .option("--no-search", "the researchers work without the agent's web search (on by default)"),
    build: (task, opts) => ({
      question: task,
      questions: (opts.question as string[] | undefined) ?? [],
      scholarly: opts.scholarly === true,
      ...(opts.search === false ? { search: false } : {}),
    }),
  },
  options: {
    name: "options",
    summary:
      "options sprint: 2 or 3 workers propose alternatives, then one is selected and refined, with the reason",
    example: 'baton run options --count 3 "Outline the migration plan for the storage layer"',
    options: (c) =>
      c.option(
        "--count <n>",
        `how many options to draft: 2 or 3 (default ${PATTERN_DEFAULTS.options.count})`,
        positiveInteger("--count"),
      ),
    build: (task, opts) => ({
      task,
      count: (opts.count as number | undefined) ?? PATTERN_DEFAULTS.options.count,
    }),
  },
};

export function registerRun(program: Command, global: () => GlobalOptions): void {
  const run = program
    .command("run")
    .description(
      "run an orchestration pattern or a workflow file to ONE result, printed and saved under .baton/runs/",
    )
    .usage("<pattern> [options] <task...>  |  baton run <file.yaml> [options]")
    .addHelpText(
      "after",
      `\nPatterns:\n${Object.values(COMMANDS)
        .map((c) => `  ${c.name.padEnd(9)} ${c.summary}\n            e.g. ${c.example}`)
        .join("\n")}\n\nProgress goes to stderr; the result to stdout (--json for programs).`,
    );
  for (const spec of Object.values(COMMANDS)) {
    const command = run
      .command(spec.name)
      .description(spec.summary)
      .argument("<task...>", "what the run is about");
    spec.options(command);
    addRunOptions(command)
      .addHelpText("after", `\nExample:\n  ${spec.example}`)
      .action(async (words: string[], opts: Record<string, unknown>) => {
        await (await actions()).runCommand(
          spec as PatternCommand<PatternName>,
          words.join(" "),
          opts,
          global(),
        );
      });
  }
  // `baton run FILE.yaml`. Its options are parsed in the action, not declared on `run`: commander lets a
  // command take its own options from anywhere on the line, so `run review ... --json` would lose --json
  // to `run`. With no options of its own, `run` still hands each pattern its whole line.
  run
    .argument("[workflow]", "a workflow file (.yaml or .yml): a graph of steps, see docs/workflows.md")
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText("after", WORKFLOW_HELP)
    .action(async (_file: unknown, _opts: unknown, command: Command) => {
      if (command.args.length === 0) command.help(); // `baton run` alone: its help, exit 0
      await (await actions()).workflowCommand(command.args, global());
    });
}

const WORKFLOW_HELP = `
Workflow files:
  baton run FILE.yaml [--json] [--cwd DIR] [--timeout S] [--idle-timeout S] [--max-tokens N]
            [--run-max-tokens N] [--max-cost USD] [--run-max-cost USD] [--retries N] [--backend NAME] [--role-backend ROLE=NAME[:MODEL]]
            [--model M] [--codex-bin PATH] [--claude-bin PATH] [--gemini-bin PATH] [--cmd LINE]
            [--agent-cmd LINE] [context flags]
            runs the steps the file defines (roles, a context pack, depends_on, for_each, merge) to ONE
            result; the whole file is checked first, and an error names file:line. See docs/workflows.md.`;

/** Adds the options every run takes, pattern or workflow. */
export function addRunOptions(command: Command): Command {
  return addLimitOptions(addPromptOptions(command))
    .option(
      "--run-max-tokens <n>",
      "stop every worker of the run once together they have used more tokens than this",
      positiveInteger("--run-max-tokens"),
    )
    .option(
      "--run-max-cost <usd>",
      "stop every worker of the run once together they have cost more than this many US dollars",
      dollars("--run-max-cost"),
    )
    .option("--cwd <dir>", "the workers' working directory", ".")
    .option(
      "--timeout <seconds>",
      "each worker's wall-clock limit (default 3600)",
      positiveNumber("--timeout", MAX_TIMEOUT_SECONDS),
    )
    .option(
      "--backend <name>",
      "the backend every worker runs on, unless its lens, step or role names another: codex, claude, gemini, acp:gemini, ..., or a named agent of the config (default: the workspace's, see baton config, else codex)",
    )
    .option(
      "--role-backend <role=backend[:model]>",
      `the backend (and model) of one role's workers, e.g. implementer=claude; a role is one of ${ROLE_KEYS.join(", ")} (synthesis: the judgement workers); repeatable`,
      (value: string, all: string[] = []) => {
        parseRoleAgent(value); // checked here, so a mistake is told before anything starts
        return [...all, value];
      },
    )
    .option("--model <model>", "the model of the workers on the run's backend (the others: their own)")
    .option("--codex-bin <path>", "the codex binary (default: BATON_CODEX_BIN, PATH, node_modules)")
    .option("--claude-bin <path>", "the claude binary (default: BATON_CLAUDE_BIN, PATH, node_modules)")
    .option("--gemini-bin <path>", "the gemini binary (default: BATON_GEMINI_BIN, PATH, node_modules)")
    .option(
      "--cmd <command line>",
      "the program of the workers on the command backend (see baton spawn --cmd)",
    )
    .option(
      "--agent-cmd <command line>",
      'the ACP agent of the workers on the acp backend, e.g. "gemini --acp"',
    )
    .option("--json", "print the result as JSON");
}
