import { spawnSync } from "node:child_process";
import { readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { lstatInStore, readStoreBytesSync, writeNewStoreFileSync } from "../store/no-follow.js";

// How an agent's process is started: the program the backend names, its prompt file as standard
// input, and, in Baton's sandbox, bubblewrap shielded from the signals meant for the agent.
//
// With the native helper (native/launch.c) that is one exec per step: `baton-launch --shield --
// bwrap ... -- baton-launch --agent --stdin PROMPT -- AGENT ...`. Without it (no C compiler at
// install), GNU env and sh do the same in two more: `env --ignore-signal=... bwrap ... -- env
// --default-signal=... sh -c 'exec "$@" < "$0"' PROMPT AGENT ...`. Each of those execs costs about a
// millisecond of CPU a worker.
//
// The helper Baton runs is a copy in the run store, never the package's file: the store is hidden
// from every sandboxed worker, and a writer whose scope holds Baton's own install (a project that
// has it in node_modules) could otherwise change the program that starts the next worker's sandbox
// from outside it.

/** What the agent runs: a program, its arguments, and the file its standard input comes from. */
export interface AgentProgram {
  readonly file: string;
  readonly args: readonly string[];
  readonly stdin?: string;
}

export interface Command {
  readonly file: string;
  readonly args: string[];
}

/** The signals the terminal or a stop sends that only the agent must get (see {@link shielded}). */
export const SHIELDED_SIGNALS = "INT,QUIT,TERM,HUP";

/** The helper the build made, if it did (`dist/native/baton-launch`). */
const BUILT = fileURLToPath(new URL("../native/baton-launch", import.meta.url));

/** The name of the store's copy, at the store's top. */
export const LAUNCHER_NAME = "baton-launch";

const installed = new Map<string, string | undefined>();

/**
 * The store's copy of the helper, made or refreshed on first use in this process, and checked to
 * run (a store on a `noexec` file system cannot run it). Undefined where there is no helper: agents
 * then start through sh and env.
 */
export function launcherIn(home: string): string | undefined {
  const known = installed.get(home);
  // Made before and still there (one lstat): a store emptied by hand meanwhile gets a new copy.
  if (installed.has(home) && (known === undefined || isFileIn(home, known))) return known;
  const copy = install(home);
  installed.set(home, copy);
  return copy;
}

function install(home: string): string | undefined {
  let built: Buffer;
  try {
    built = readFileSync(BUILT);
  } catch {
    return undefined;
  }
  const copy = join(home, LAUNCHER_NAME);
  try {
    // Anything else in its place (another build's, a link, a folder) is replaced, never followed.
    if (!sameBytes(home, copy, built)) {
      const temp = join(home, `.${LAUNCHER_NAME}.${process.pid}`);
      rmSync(temp, { force: true });
      writeNewStoreFileSync(home, temp, built, 0o700);
      try {
        renameSync(temp, copy);
      } catch {
        rmSync(copy, { recursive: true, force: true }); // a folder in its place: a file cannot replace it
        renameSync(temp, copy);
      }
    }
    const check = spawnSync(copy, ["--agent", "--", "true"], { stdio: "ignore", timeout: 10_000 });
    return check.status === 0 ? copy : undefined;
  } catch {
    return undefined;
  }
}

function isFileIn(home: string, path: string): boolean {
  try {
    return lstatInStore(home, path)?.isFile() === true;
  } catch {
    return false;
  }
}

function sameBytes(home: string, path: string, bytes: Buffer): boolean {
  try {
    return readStoreBytesSync(home, path)?.equals(bytes) === true;
  } catch {
    return false;
  }
}

/** `program` outside any sandbox: its standard input from its file, if it names one. */
export function direct(program: AgentProgram, launcher: string | undefined): Command {
  if (program.stdin === undefined) return { file: program.file, args: [...program.args] };
  return launcher
    ? { file: launcher, args: ["--stdin", program.stdin, "--", program.file, ...program.args] }
    : { file: "/bin/sh", args: ["-c", 'exec "$@" < "$0"', program.stdin, program.file, ...program.args] };
}

/**
 * `program` inside `bwrap` run with `sandboxArgs`: bubblewrap ignores the signals meant for the agent
 * (its monitor would otherwise die of a Ctrl+C and take the agent down with SIGKILL before it could
 * stop gracefully), and the agent inside gets them back.
 */
export function shielded(
  program: AgentProgram,
  bwrap: string,
  sandboxArgs: readonly string[],
  tools: { readonly launcher: string } | { readonly env: string },
): Command {
  if ("launcher" in tools) {
    const { launcher } = tools;
    const input = program.stdin === undefined ? [] : ["--stdin", program.stdin];
    return {
      file: launcher,
      args: [
        "--shield",
        "--",
        bwrap,
        ...sandboxArgs,
        "--",
        launcher,
        "--agent",
        ...input,
        "--",
        program.file,
        ...program.args,
      ],
    };
  }
  const { env } = tools;
  const inner = direct(program, undefined);
  return {
    file: env,
    args: [
      `--ignore-signal=${SHIELDED_SIGNALS}`,
      bwrap,
      ...sandboxArgs,
      "--",
      env,
      `--default-signal=${SHIELDED_SIGNALS}`,
      inner.file,
      ...inner.args,
    ],
  };
}
