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

/**
 * Marks a BatonError. A bundle (the CLI's quick path) carries its own copy of this module, and a chunk
 * it loads later another: `instanceof` must know an error of either copy for what it is.
 */
const BRAND = Symbol.for("baton.BatonError");

/** The one error type Baton throws on purpose. `message` is a single line that says what to do. */
export class BatonError extends Error {
  override readonly name = "BatonError";
  readonly code: BatonErrorCode;
  readonly [BRAND] = true;

  constructor(code: BatonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** Any copy's BatonError is one; a subclass (NoSupervisor) is checked as usual. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class asked: BatonError, or a subclass
    if (this !== BatonError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}

export const isBatonError = (value: unknown): value is BatonError => value instanceof BatonError;

/** A Node system error's code (`ENOENT`, `EACCES`, ...), if it has one. */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
