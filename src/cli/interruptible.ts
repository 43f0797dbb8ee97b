import type { Baton } from "../client/baton.js";
import type { Io } from "./io.js";

/**
 * Ctrl+C handling for a command that drives workers: the first aborts `controller` (the command then
 * stops its workers gracefully and reports); the second stops them at once and exits 130.
 */
export function interruptible(
  controller: AbortController,
  workers: () => Promise<readonly string[]>,
  baton: Baton,
  io: Io,
): { dispose(): void } {
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts += 1;
    if (interrupts === 1) {
      io.err.write("baton: stopping the workers gracefully (Ctrl+C again to force)\n");
      controller.abort();
      return;
    }
    if (interrupts > 2) return io.exit(130);
    io.err.write("baton: forcing the workers to stop\n");
    const force = async () => {
      const ids = await workers();
      if (ids.length > 0) await baton.stop(ids, { graceSeconds: 0 });
    };
    const deadline = setTimeout(() => io.exit(130), 10_000);
    deadline.unref();
    void force()
      .catch(() => {})
      .finally(() => {
        clearTimeout(deadline);
        io.exit(130);
      });
  };
  return { dispose: io.onInterrupt(onInterrupt) };
}
