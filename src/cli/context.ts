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

export function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) {
      throw new BatonError("usage", `${name} must be a positive number, got "${value}"`);
    }
    return n;
  };
}

export function nonNegativeInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) {
      throw new BatonError("usage", `${name} must be a whole number of 0 or more, got "${value}"`);
    }
    return n;
  };
}

export function positiveInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new BatonError("usage", `${name} must be a whole number of 1 or more, got "${value}"`);
    }
    return n;
  };
}
