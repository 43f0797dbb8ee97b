import type { Baton, BatonOptions } from "../client/baton.js";
import { BatonError } from "../errors.js";
import { MAX_NAME_CHARS } from "../protocol/limits.js";
import { terminalJson, textFor } from "../render/terminal-text.js";
import { type Io, processIo } from "./io.js";

export interface GlobalOptions {
  readonly home?: string;
  /**
   * false: no supervisor running is a `NoSupervisor` error, and none is started (the quick path,
   * quick.ts, leaves starting one to the full program).
   * @default true
   */
  readonly autoStart?: boolean;
  /** Where the command writes, and its caller's folder and environment (default: this process's). */
  readonly io?: Io;
  /** Opens the Baton in process rather than by the socket: a command the supervisor runs (relay.ts). */
  readonly open?: (deadline: number | undefined) => Baton;
}

/** The Io of a command given these options. */
export const ioOf = (global: GlobalOptions): Io => global.io ?? processIo;

/** Opens the workspace's Baton for one command and closes it afterwards. */
export async function withBaton<T>(
  global: GlobalOptions & Pick<BatonOptions, "deadline">,
  work: (baton: Baton) => Promise<T>,
): Promise<T> {
  const { home, deadline, autoStart, open } = global;
  const { cwd, env, signal } = ioOf(global);
  const baton = open
    ? open(deadline)
    : await (await import("../client/baton.js")).Baton.open({
        // loaded by the commands that talk to a supervisor
        cwd,
        env,
        ...(home ? { home } : {}),
        ...(deadline === undefined ? {} : { deadline }),
        ...(autoStart === undefined ? {} : { autoStart }),
      });
  const gone = () => baton.close(); // its requests fail, and the command with them
  signal?.addEventListener("abort", gone, { once: true });
  try {
    return await work(baton);
  } finally {
    signal?.removeEventListener("abort", gone);
    baton.close();
  }
}

/** Prints `value` as JSON: the exact text of every string, with no control character left raw. */
export function printJson(value: unknown, io: Io = processIo): void {
  io.out.write(`${terminalJson(value, 2)}\n`);
}

/**
 * Writes to stdout. Text from workers and models passes here: on a terminal its control characters are
 * shown as `\x1b` and the like, never acted on; to a pipe or a file it stays exact.
 */
export function writeOut(text: string, io: Io = processIo): void {
  io.out.write(textFor(io.out, text));
}

/** Writes to stderr, as {@link writeOut} does to stdout. */
export function writeErr(text: string, io: Io = processIo): void {
  io.err.write(textFor(io.err, text));
}

/** Ends the command with `code` after printing `message` as one line on stderr. */
export class ExitWith extends Error {
  constructor(
    readonly exitCode: number,
    message = "",
  ) {
    super(message);
  }
}

// Decimal notation only: Number() would also take "0x10", "0b11" and "" as numbers.
const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\s*$/i;

/** A commander parser for a number flag that names the flag and the rule in its error. */
function numberFlag(name: string, rule: string, ok: (n: number) => boolean, max?: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!DECIMAL.test(value) || !ok(n))
      throw new BatonError("usage", `${name} must be ${rule}, got "${value}"`);
    if (max !== undefined && n > max) {
      throw new BatonError("usage", `${name} must be at most ${max}, got "${value}"`);
    }
    return n;
  };
}

/** `--lens`: an id from the list, or a short free-text lens. */
export function lensName(value: string): string {
  if (value.length > MAX_NAME_CHARS) {
    throw new BatonError("usage", `--lens must be at most ${MAX_NAME_CHARS} characters, got ${value.length}`);
  }
  return value;
}

export const positiveNumber = (name: string, max?: number) =>
  numberFlag(name, "a positive number", (n) => Number.isFinite(n) && n > 0, max);
export const nonNegativeNumber = (name: string, max?: number) =>
  numberFlag(name, "a number of 0 or more", (n) => Number.isFinite(n) && n >= 0, max);
export const nonNegativeInteger = (name: string, max?: number) =>
  numberFlag(name, "a whole number of 0 or more", (n) => Number.isSafeInteger(n) && n >= 0, max);
export const positiveInteger = (name: string, max?: number) =>
  numberFlag(name, "a whole number of 1 or more", (n) => Number.isSafeInteger(n) && n >= 1, max);
