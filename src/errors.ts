/** What kind of failure a {@link BatonError} is; the CLI maps it to an exit code. */
export type BatonErrorCode =
  | "usage" // bad input from the caller
  | "not_found" // unknown worker id
  | "not_finished" // result asked of a worker still running
  | "backend" // agent binary missing or unusable
  | "store" // run store unreadable or unwritable
  | "supervisor" // cannot reach or start the supervisor
  | "nested" // a worker tried to spawn a worker
  | "busy" // a path is held by another writer
  | "budget" // a run's token budget is spent
  | "timeout"
  | "aborted";

/** The one error type Baton throws on purpose. `message` is a single line that says what to do. */
export class BatonError extends Error {
  override readonly name = "BatonError";
  readonly code: BatonErrorCode;

  constructor(code: BatonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export const isBatonError = (value: unknown): value is BatonError => value instanceof BatonError;

/** A Node system error's code (`ENOENT`, `EACCES`, ...), if it has one. */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
