import type { Command } from "commander";
import { MAX_POLL_BYTES, MAX_POLL_WAIT_MS, MAX_WAIT_MS } from "../../protocol/limits.js";
import { type GlobalOptions, nonNegativeInteger, positiveInteger, positiveNumber } from "../context.js";

// What each command does is in ../actions/read.ts (ls, poll, result; the quick path, ../quick.ts, runs
// them too, for the flags ../quick-argv.ts lists) and ../actions/inspect.ts (logs, wait), loaded only
// when one of them runs.
const actions = () => import("../actions/inspect.js");
const reads = () => import("../actions/read.js");

export function registerInspect(program: Command, global: () => GlobalOptions): void {
  program
    .command("ls")
    .description(
      "list every worker with its label, role, state, elapsed time and tokens, under the current plan",
    )
    .option("--json", "print JSON")
    .action(async (opts) => (await reads()).ls(global(), opts));

  program
    .command("poll")
    .description(
      "print what a worker did since this reader's last poll (readable; --raw for the bytes), and its state",
    )
    .argument("<id>", "worker id")
    .option(
      "--wait <ms>",
      "wait up to this long for new output or the end",
      nonNegativeInteger("--wait", MAX_POLL_WAIT_MS),
    )
    .option(
      "--max-bytes <n>",
      "print at most the last N bytes of new output (default 16384)",
      positiveInteger("--max-bytes", MAX_POLL_BYTES),
    )
    .option("--reader <name>", "whose cursor to use; each reader sees each byte once", "default")
    .option(
      "--since <offset>",
      "read from this byte offset instead of the reader's cursor",
      nonNegativeInteger("--since"),
    )
    .option("--raw", "print the transcript's exact bytes (agent JSON lines and all), not the readable view")
    .option("--json", "print JSON (the exact bytes, with the cursor and state)")
    .action(async (id: string, opts) => (await reads()).poll(global(), id, opts));

  program
    .command("result")
    .description(
      "print only the worker's final answer (its agent's last message); several, each under a header naming its worker",
    )
    .argument("[ids...]", "worker ids")
    .option("--all", "every worker's answer, in id order")
    .option("--json", "also give state, exit code, duration, token usage and thread id (several: an array)")
    .addHelpText(
      "after",
      "\nExamples:\n  baton result w3\n  baton result w1 w2 w3     # ## w1 (label): succeeded, then its answer, ...\n  baton result --all --json",
    )
    .action(async (ids: string[], opts) => (await reads()).result(global(), ids, opts));

  program
    .command("logs")
    .description(
      "print the worker's transcript for people: messages, commands and their exit codes, changed files, errors, the final answer",
    )
    .argument("<id>", "worker id")
    .option("--raw", "print the transcript's exact bytes (agent JSON lines and all)")
    .action(async (id: string, opts) => (await actions()).logs(global(), id, opts));

  program
    .command("wait")
    .description("block until the workers end (default: all unfinished); exit 0 only if all succeeded")
    .argument("[ids...]", "worker ids")
    .option("--any", "return as soon as one of them ends")
    .option(
      "--timeout <seconds>",
      "give up after this long (exit 124)",
      positiveNumber("--timeout", MAX_WAIT_MS / 1000),
    )
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      "\nCtrl+C stops the awaited workers gracefully and prints what each got to (exit 130); a second Ctrl+C forces them.",
    )
    .action(async (ids: string[], opts) => (await actions()).wait(global(), ids, opts));
}
