// How an agent's process is started: the program the backend names, its prompt file as standard
// input, and, in Baton's sandbox, bubblewrap shielded from the signals meant for the agent.
//
// With the native helper (native/launch.c) that is one exec per step: `baton-launch --shield --
// bwrap ... -- baton-launch --agent --scoped --stdin PROMPT -- AGENT ...`. Without it (no C compiler at
// install, or a store on a noexec file system), GNU env and bash do the same in two more: `env
// --ignore-signal=... bwrap ... -- env --default-signal=... bash -c '<close fds>; exec "$@" < "$0"'
// PROMPT AGENT ...` (see unhelped).
// The helper Baton runs is the store's copy (launcher-copy.ts).

import { accessSync, constants, statSync } from "node:fs";
import { BatonError } from "../errors.js";

/** What the agent runs: a program, its arguments, and the file its standard input comes from. */
export interface AgentProgram {
  readonly file: string;
  readonly args: readonly string[];
  readonly stdin?: string;
}

export interface Command {
  readonly file: string;
  readonly args: string[];
  /**
   * The same start without the launcher's first step, for a starter that does that step itself
   * (the spawner, native/spawn.c): bubblewrap run directly, with the shielded signals ignored and
   * the priority lowered by `nice`, as `baton-launch --shield --nice N` would. One exec fewer.
   */
  readonly shieldedStart?: { readonly file: string; readonly args: readonly string[]; readonly nice: number };
}

/** The signals the terminal or a stop sends that only the agent must get (see {@link shielded}). */
const SHIELDED_SIGNALS = "INT,QUIT,TERM,HUP";

/**
 * How much lower than the supervisor's a worker's priority is while it runs (`baton-launch --nice`):
 * none by default, as for any program the user starts: a lowered worker loses throughput to anything
 * else on the machine that wakes up (32 codex workers on 2 cores at nice 10 took about 6 % longer
 * than at 0). A burst of workers is kept from starving the supervisor that starts them otherwise, for
 * the burst only (supervisor/start-priority.ts). `BATON_WORKER_NICE` (0 to 19) sets it for the
 * supervisor that starts with it: 10 keeps the machine's other programs ahead of the workers. Only
 * with the native helper. Any other value is refused, in one line, before a supervisor starts with it.
 */
export function workerNice(env: NodeJS.ProcessEnv = process.env): number {
  const asked = env.BATON_WORKER_NICE;
  if (asked === undefined || asked === "") return DEFAULT_WORKER_NICE;
  const value = /^\s*\d+\s*$/.test(asked) ? Number(asked) : Number.NaN;
  if (value >= 0 && value <= 19) return value;
  throw new BatonError(
    "usage",
    `BATON_WORKER_NICE is ${JSON.stringify(asked)}: set it to a whole number from 0 (workers at the supervisor's priority) to 19, or unset it for ${DEFAULT_WORKER_NICE}`,
  );
}

export const DEFAULT_WORKER_NICE = 0;

/** The helper's own options that lower the priority, if at all. */
const lowered = (nice: number) => (nice > 0 ? ["--nice", String(nice)] : []);

/**
 * `program` outside any sandbox: its standard input from its file, if it names one, and its priority
 * lowered by `nice` where the helper is there to do it. The helper starts it even when it has neither
 * to do: it closes what the agent would otherwise inherit of the supervisor's (native/launch.c).
 */
export function direct(program: AgentProgram, launcher: string | undefined, nice = 0): Command {
  const input = program.stdin === undefined ? [] : ["--stdin", program.stdin];
  if (launcher)
    return { file: launcher, args: [...lowered(nice), ...input, "--", program.file, ...program.args] };
  return unhelped(program, bashPath());
}

/**
 * Without the helper, bash does its work: it closes every descriptor but standard input, output and
 * error, then runs the agent, its prompt file as standard input. node-pty leaves each terminal's
 * master end open across exec, so without this every agent held the terminals of the workers started
 * before it (a read-only reviewer could type into a writer's). bash, not sh: dash cannot name a
 * descriptor above 9. Started with `--norc -p`, it reads no startup file (not even the one bash reads
 * when its input is a socket, as a pipe worker's is) and takes no function, `BASH_ENV`, `SHELLOPTS`
 * or `GLOBIGNORE` from the environment, which could keep it from closing anything; the agent still
 * gets the whole environment. Where there is no bash either, the worker is refused, not started leaking.
 */
export function unhelped(program: AgentProgram, bash: string | undefined): Command {
  if (!bash)
    throw new BatonError(
      "backend",
      "cannot start the agent safely: Baton's launcher was not built (no C compiler at install, or a noexec store) and there is no bash owned by root in /bin, /usr/bin or /usr/local/bin to close the supervisor's descriptors; install a C compiler and reinstall Baton, or install bash",
    );
  const run = program.stdin === undefined ? 'exec "$@"' : 'exec "$@" < "$0"';
  return {
    file: bash,
    args: [...BASH, CLOSE_INHERITED + run, program.stdin ?? "baton-agent", program.file, ...program.args],
  };
}

const BASH = ["--norc", "-p", "-c"];

/**
 * bash's own code that closes every descriptor above 2 it inherited (the listing's own is gone by
 * then), or ends with 126 where there is no /proc to list them. Only a number is ever put into
 * `exec N>&-`, all of them in one.
 */
const CLOSE_INHERITED =
  '[ -d /proc/self/fd ] || { echo "baton: no /proc/self/fd: cannot close what the agent would inherit" >&2; exit 126; }; ' +
  // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's own parameter expansion, not a template
  'c=; for fd in /proc/self/fd/*; do fd=${fd##*/}; case $fd in 0|1|2|""|*[!0-9]*) ;; *) c="$c $fd>&-" ;; esac; done; ' +
  'eval "exec $c" 2>/dev/null; ';

let bash: string | undefined;

/**
 * bash's path: the system's own (in /bin, /usr/bin or /usr/local/bin, owned by root, that no one else
 * may change), never one found on PATH, which may lead into a writer's scope. The sandbox mounts the
 * host's root read-only: the same path inside. Looked for again until found.
 */
function bashPath(): string | undefined {
  bash ??= ["/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash"].find(systemProgram);
  return bash;
}

function systemProgram(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    const found = statSync(path);
    return found.isFile() && found.uid === 0 && (found.mode & 0o022) === 0;
  } catch {
    return false;
  }
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
  tools: { readonly launcher: string; readonly nice?: number } | { readonly env: string },
): Command {
  if ("launcher" in tools) {
    const { launcher, nice = 0 } = tools;
    const input = program.stdin === undefined ? [] : ["--stdin", program.stdin];
    // --scoped: no abstract socket made outside the sandbox is reached from it (native/launch.c).
    const inside = [
      ...sandboxArgs,
      "--",
      ...[launcher, "--agent", "--scoped", ...input],
      ...["--", program.file, ...program.args],
    ];
    return {
      file: launcher,
      args: ["--shield", ...lowered(nice), "--", bwrap, ...inside],
      shieldedStart: { file: bwrap, args: inside, nice },
    };
  }
  const { env } = tools;
  const inner = unhelped(program, bashPath());
  // bash closes what bubblewrap would hold outside the sandbox for the worker's life, then becomes it
  // (a signal ignored as bash starts stays ignored across its exec); inside, again, before the agent.
  return {
    file: env,
    args: [
      `--ignore-signal=${SHIELDED_SIGNALS}`,
      inner.file,
      ...BASH,
      `${CLOSE_INHERITED}exec "$@"`,
      "baton-sandbox",
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
