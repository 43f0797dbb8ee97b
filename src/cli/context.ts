import { Baton } from "../client/baton.js";
import { BatonError } from "../errors.js";

export interface GlobalOptions {
  readonly home?: string;
}

/** Opens the workspace's Baton for one command and closes it afterwards. */
export async function withBaton<T>(global: GlobalOptions, work: (baton: Baton) => Promise<T>): Promise<T> {
  const baton = await Baton.open(global.home ? { home: global.home } : {});
  try {
    return await work(baton);
  } finally {
    baton.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
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

/** A commander parser for a number flag that names the flag and the rule in its error. */
function numberFlag(name: string, rule: string, ok: (n: number) => boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !ok(n))
      throw new BatonError("usage", `${name} must be ${rule}, got "${value}"`);
    return n;
  };
}

export const positiveNumber = (name: string) =>
  numberFlag(name, "a positive number", (n) => Number.isFinite(n) && n > 0);
export const nonNegativeNumber = (name: string) =>
  numberFlag(name, "a number of 0 or more", (n) => Number.isFinite(n) && n >= 0);
export const nonNegativeInteger = (name: string) =>
  numberFlag(name, "a whole number of 0 or more", (n) => Number.isInteger(n) && n >= 0);
export const positiveInteger = (name: string) =>
  numberFlag(name, "a whole number of 1 or more", (n) => Number.isInteger(n) && n >= 1);
