import { MAX_POLL_BYTES, MAX_POLL_WAIT_MS, MAX_WAIT_MS } from "../protocol/limits.js";
import { type WaitFlags, wait } from "./actions/inspect.js";
import { ls, type PollFlags, poll, result } from "./actions/read.js";
import { type GlobalOptions, nonNegativeInteger, positiveInteger, positiveNumber } from "./context.js";
import type { QuickLine } from "./quick-argv.js";
import { runQuickly } from "./quick-run.js";

// The quick path: `ls`, `result`, `poll` and `wait` (and `spawn`, in quick-spawn.ts) run their actions (the very functions commander calls, with
// the options it would give them) without loading commander and every command's registration, which
// took longer than the command itself. `npm run build` bundles it into one file (scripts/bundle.mjs).

/** The numbers `poll` takes, checked as commands/inspect.ts has commander check them. */
const NUMBERS = {
  "--wait": nonNegativeInteger("--wait", MAX_POLL_WAIT_MS),
  "--max-bytes": positiveInteger("--max-bytes", MAX_POLL_BYTES),
  "--since": nonNegativeInteger("--since"),
};
const WAIT_TIMEOUT = positiveNumber("--timeout", MAX_WAIT_MS / 1000);

/** An action call, with the worker ids and options commander would have given it. */
export type QuickCall =
  | { readonly command: "ls"; readonly opts: { readonly json: boolean } }
  | {
      readonly command: "result";
      readonly ids: string[];
      readonly opts: { readonly json: boolean; readonly all: boolean };
    }
  | { readonly command: "poll"; readonly id: string; readonly opts: PollFlags }
  | { readonly command: "wait"; readonly ids: string[]; readonly opts: WaitFlags };

/** The action call `line` stands for; throws on a value commander would refuse. */
export function quickCall(line: Exclude<QuickLine, { command: "spawn" }>): QuickCall {
  const json = line.flags.has("--json");
  if (line.command === "ls") return { command: "ls", opts: { json } };
  if (line.command === "result")
    return { command: "result", ids: [...line.ids], opts: { json, all: line.flags.has("--all") } };
  if (line.command === "wait") {
    const timeout = line.values.get("--timeout");
    const opts = {
      any: line.flags.has("--any"),
      json,
      timeout: timeout === undefined ? undefined : WAIT_TIMEOUT(timeout),
    };
    return { command: "wait", ids: [...line.ids], opts };
  }
  const number = (flag: keyof typeof NUMBERS) => {
    const value = line.values.get(flag);
    return value === undefined ? undefined : NUMBERS[flag](value);
  };
  const opts: PollFlags = {
    reader: line.values.get("--reader") ?? "default",
    wait: number("--wait"),
    maxBytes: number("--max-bytes"),
    since: number("--since"),
    raw: line.flags.has("--raw"),
    json,
  };
  return { command: "poll", id: line.ids[0]!, opts };
}

/** Runs `line`; resolves with the exit code, or undefined when the full program should run it (quick-run.ts). */
export function runQuick(
  line: Exclude<QuickLine, { command: "spawn" }>,
  where: Pick<GlobalOptions, "io" | "open"> = {},
): Promise<number | undefined> {
  return runQuickly(
    { home: line.home, ...where },
    () => quickCall(line),
    async (global, call) => {
      if (call.command === "ls") await ls(global, call.opts);
      else if (call.command === "result") await result(global, call.ids, call.opts);
      else if (call.command === "wait") await wait(global, call.ids, call.opts);
      else await poll(global, call.id, call.opts);
    },
  );
}
