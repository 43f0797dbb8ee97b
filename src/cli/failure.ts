import { isBatonError } from "../errors.js";
import { ExitWith, writeErr } from "./context.js";
import { type Io, processIo } from "./io.js";

/**
 * Prints a command's failure as one line on stderr, never a stack trace, and gives its exit code.
 * Commander's own errors (a mistyped command line) are told apart first, in program-run.ts.
 */
export function exitCodeOf(error: unknown, io: Io = processIo): number {
  if (error instanceof ExitWith) {
    if (error.message) writeErr(`baton: ${error.message}\n`, io);
    return error.exitCode;
  }
  if (isBatonError(error)) {
    writeErr(`baton: ${error.message}\n`, io);
    return error.code === "usage" ? 2 : 1;
  }
  writeErr(`baton: unexpected error: ${(error as Error)?.message ?? String(error)}\n`, io);
  return 1;
}
