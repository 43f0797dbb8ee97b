import { relative } from "node:path";
import { BatonError, errnoOf } from "../errors.js";

/**
 * A one-line error for a failed read or write in the run store at `home`, naming the file (`path`, or
 * the one the system error names) and what to do.
 */
export function storeError(home: string, error: unknown, path?: string): BatonError {
  const code = errnoOf(error);
  const cause = error as { dest?: unknown; path?: unknown } | null;
  const named = path ?? cause?.dest ?? cause?.path;
  const file = typeof named === "string" && named !== home ? relative(home, named) : undefined;
  const at = file ? ` (${file})` : "";
  const message =
    code === "ENOSPC" || code === "EDQUOT"
      ? `the run store ${home} is on a full disk${at}: free some space on it, or set BATON_HOME to another folder`
      : code === "EACCES" || code === "EPERM" || code === "EROFS"
        ? `the run store ${home} is not writable${at}: make it writable, or set BATON_HOME to another folder`
        : code === "EISDIR" || code === "ENOTDIR"
          ? `the run store ${home} is damaged: ${file ?? "a file in it"} is not a file: restore it, or remove the worker's folder`
          : `the run store ${home} failed${at} (${code ?? String(error)}): check its disk, or set BATON_HOME to another folder`;
  return new BatonError("store", message, { cause: error });
}

/** Runs `work` on `path`, turning a failure into a one-line store error that names the file. */
export async function guarded<T>(home: string, path: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BatonError) throw error;
    throw storeError(home, error, path);
  }
}
