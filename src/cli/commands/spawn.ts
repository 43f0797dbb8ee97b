import type { Command } from "commander";
import { Option } from "commander";
import { MAX_PARALLEL_LIMIT, MAX_TIMEOUT_SECONDS } from "../../protocol/limits.js";
import { resolveHome } from "../../store/home.js";
import { ROLES } from "../../worker/types.js";
import { backendName } from "../backend-option.js";
import { type GlobalOptions, lensName, positiveInteger, positiveNumber } from "../context.js";
import { addLimitOptions } from "../limits.js";
import { addPromptOptions } from "../prompt-options.js";

// What spawn does is in ../actions/spawn.ts, loaded only when it runs.

export function registerSpawn(program: Command, global: () => GlobalOptions): void {
  const command = program
    .command("spawn")
    .description(
      "start workers in the background and print their ids, one a line; with --wait, their answers",
    )
    .argument("[prompt...]", "the task, or - to read it from stdin (or give --task/--tasks)")
    .option(
      "--task <text>",
      "a task of its own worker (repeat for more); the other options apply to each",
      (v: string, all: string[] = []) => [...all, v],
    )
    .option(
      "--tasks <file>",
      'one JSON object a line, one worker each: {"task": "...", "label"?, "role"?, "lens"?, "write"?: [...], "readOnly"?}; - reads stdin',
    )
    .option(
      "--wait",
      "wait for the workers, then print their answers (several: each under a header); exit 0 only if all succeeded",
    )
    .option("--label <text>", "a short name for the worker")
    .addOption(new Option("--role <role>", "what kind of worker this is; picks its template").choices(ROLES))
    .option("--lens <lens>", "the reviewer's lens, e.g. security or performance", lensName)
    .option(
      "--read-only",
      "the worker may not change files (the default unless --write or --role implementer)",
    )
    .option(
      "--write <path>",
      "a path the worker may change (repeat for more)",
      (v: string, all: string[] = []) => [...all, v],
    )
    .option(
      "--cwd <dir>",
      "the agent's working directory (default: the current folder; a follow-up: its parent's)",
    )
    .option("--model <model>", "the model the agent uses")
    .option(
      "--timeout <seconds>",
      "stop the worker after this long (default 3600)",
      positiveNumber("--timeout", MAX_TIMEOUT_SECONDS),
    )
    .option(
      "--max-parallel <n>",
      "workers that may run at once in this workspace; the rest queue (default 8)",
      positiveInteger("--max-parallel", MAX_PARALLEL_LIMIT),
    )
    .addOption(
      new Option(
        "--backend <name>",
        "the agent CLI: codex, claude, gemini, acp, acp:gemini, acp:opencode, command, or a named agent of the config (default: the workspace's, see baton config, else codex; a follow-up: its parent's)",
      ).argParser(backendName(() => global().home ?? resolveHome())),
    )
    .option(
      "--cmd <command line>",
      'any program as the worker (--backend command, implied): its prompt on stdin, its answer in $BATON_ANSWER_FILE or its last paragraph, e.g. --cmd "my-agent --flag"',
    )
    .option(
      "--agent-cmd <command line>",
      'any ACP agent as the worker (--backend acp, implied), e.g. --agent-cmd "gemini --acp"',
    )
    .option(
      "--bin <path>",
      "the agent's binary (default: BATON_CODEX_BIN, BATON_CLAUDE_BIN or BATON_GEMINI_BIN, then PATH, then node_modules)",
    )
    .option(
      "--codex-bin <path>",
      "the codex binary, for a codex worker (default: BATON_CODEX_BIN, then PATH, then node_modules)",
    )
    .option(
      "--no-wait",
      "refuse at once if another writer holds one of the --write paths, instead of queueing",
    )
    .option("--isolate", "write in an own git worktree; the change comes back as a commit on a branch")
    .option(
      "--continue <id>",
      "a follow-up: continue the agent thread of this ended worker, as a new worker with the same cwd, role and scope unless given",
    )
    .option("--search", "turn the agent's web search on (the default for --role research)")
    .option("--no-search", "turn the agent's web search off")
    .option(
      "--unconfined",
      "run without Baton's own sandbox (only the agent's); needed for writers where bubblewrap cannot run",
    )
    .option("--json", "print JSON");
  addLimitOptions(addPromptOptions(command))
    .addHelpText(
      "after",
      `
Examples:
  baton spawn --label scout --role scout "Map where config is loaded; list files and functions"
  baton spawn --role reviewer --lens security --context context.yaml "Review src/auth/"
  baton spawn --role implementer --write src/parser.ts "Fix the off-by-one in parseRange"
  cat task.md | baton spawn --label big -
  baton spawn --role reviewer --task "Review src/auth/ for security" --task "Review src/auth/ for performance"
  baton spawn --wait --role scout "Map where config is loaded"
  printf '%s\n' '{"task":"Scout src/","label":"scout"}' '{"task":"Review src/","role":"reviewer"}' | baton spawn --tasks -
  baton spawn --continue w3 "Now add a test for it"`,
    )
    .action(async (words: string[], opts) =>
      (await import("../actions/spawn.js")).spawn(global(), words, opts),
    );
}
