import { resolve } from "node:path";
import type { Command } from "commander";
import { Option } from "commander";
import { refuseInsideWorker } from "../../client/baton.js";
import { BatonError } from "../../errors.js";
import {
  MAX_NAME_CHARS,
  MAX_PARALLEL_LIMIT,
  MAX_PROMPT_BYTES,
  MAX_TIMEOUT_SECONDS,
} from "../../protocol/messages.js";
import { ROLES, type Role } from "../../worker/types.js";
import { type GlobalOptions, positiveInteger, positiveNumber, printJson, withBaton } from "../context.js";
import { addLimitOptions, limitSettings } from "../limits.js";
import { addPromptOptions, promptSettings } from "../prompt-options.js";

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new BatonError(
      "usage",
      "the prompt is `-` but stdin is a terminal: pipe the prompt in, or give it as an argument",
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end, so that the writer never meets a closed pipe; keep no more than the limit.
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size <= MAX_PROMPT_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_PROMPT_BYTES) {
    throw new BatonError(
      "usage",
      `the prompt on stdin is ${mib(size)}, more than the ${mib(MAX_PROMPT_BYTES)} a prompt may be: ` +
        "point the worker to files instead of pasting them",
    );
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new BatonError(
      "usage",
      "the prompt on stdin is not valid UTF-8: convert it to UTF-8 (e.g. with iconv)",
    );
  }
}

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/** `--lens`: an id from the list, or a short free-text lens. */
function lensName(value: string): string {
  if (value.length > MAX_NAME_CHARS) {
    throw new BatonError("usage", `--lens must be at most ${MAX_NAME_CHARS} characters, got ${value.length}`);
  }
  return value;
}

export function registerSpawn(program: Command, global: () => GlobalOptions): void {
  const command = program
    .command("spawn")
    .description("start one worker in the background and print its id")
    .argument("<prompt...>", "the task, or - to read it from stdin")
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
    .option("--cwd <dir>", "the agent's working directory", ".")
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
    .addOption(new Option("--backend <name>", "the agent CLI").choices(["codex"]).default("codex"))
    .option("--codex-bin <path>", "the codex binary (default: BATON_CODEX_BIN, then PATH, then node_modules)")
    .option(
      "--no-wait",
      "refuse at once if another writer holds one of the --write paths, instead of queueing",
    )
    .option("--isolate", "write in an own git worktree; the change comes back as a commit on a branch")
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
  cat task.md | baton spawn --label big -`,
    )
    .action(async (words: string[], opts) => {
      refuseInsideWorker(process.env);
      const task = words.length === 1 && words[0] === "-" ? await readStdin() : words.join(" ");
      const cwd = resolve(opts.cwd);
      const id = await withBaton(global(), async (baton) => {
        const settings = await promptSettings(opts, cwd, baton.home);
        const role = opts.role as Role | undefined;
        return baton.spawn({
          task,
          label: opts.label,
          role,
          readOnly: opts.readOnly,
          write: opts.write,
          cwd,
          model: opts.model,
          timeoutSeconds: opts.timeout,
          ...limitSettings(opts),
          backend: opts.backend,
          bin: opts.codexBin,
          maxParallel: opts.maxParallel,
          noWait: opts.wait === false,
          isolate: opts.isolate === true,
          ...(opts.unconfined ? { unconfined: true } : {}),
          ...(opts.lens ? { lens: opts.lens } : {}),
          ...(settings.context ? { context: settings.context } : {}),
          ...(role && settings.templates[role] ? { template: settings.templates[role] } : {}),
        });
      });
      if (opts.json) printJson({ id });
      else process.stdout.write(`${id}\n`);
    });
}
