import { BatonError } from "../errors.js";
import type { ContextPack } from "./pack.js";

/** A pack read from a file, with the line of each pointer so a missing one can be reported in place. */
export interface ParsedPack {
  readonly pack: ContextPack;
  readonly pointerLines: readonly (number | undefined)[];
}

/** A usage error that starts `file:line:` (or `file:` when the line is unknown), as compilers do. */
export function usageAt(file: string, line: number | undefined, message: string): BatonError {
  return new BatonError("usage", `${file}${line === undefined ? "" : `:${line}`}: ${message}`);
}
