import { NoSupervisor } from "../client/reach.js";
import type { GlobalOptions } from "./context.js";
import { exitCodeOf } from "./failure.js";

/**
 * Runs a quick path's action (see quick.ts); resolves with the exit code, or with undefined, having
 * printed nothing, when the full program should run the line instead: a value commander would refuse
 * (`call` throws: commander reports the mistake in its own words), or no supervisor running (the full
 * program starts one).
 */
export async function runQuickly<C>(
  where: Pick<GlobalOptions, "home" | "io" | "open">,
  call: () => C,
  run: (global: GlobalOptions, call: C) => Promise<void>,
): Promise<number | undefined> {
  let made: C;
  try {
    made = call();
  } catch {
    return undefined;
  }
  const { home, io, open } = where;
  const global: GlobalOptions = {
    ...(home === undefined ? {} : { home }),
    ...(io === undefined ? {} : { io }),
    ...(open === undefined ? {} : { open }),
    autoStart: false,
  };
  try {
    await run(global, made);
    return 0;
  } catch (error) {
    return error instanceof NoSupervisor ? undefined : exitCodeOf(error, io);
  }
}
