import type { Baton } from "../client/baton.js";

/**
 * Ctrl+C handling for a command that drives workers: the first aborts `controller` (the command then
 * stops its workers gracefully and reports); the second stops them at once and exits 130.
 */
export function interruptible(
  controller: AbortController,
  workers: () => Promise<readonly string[]>,
  baton: Baton,
): { dispose(): void } {
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write("baton: stopping the workers gracefully (Ctrl+C again to force)\n");
      controller.abort();
      return;
    }
    if (interrupts > 2) process.exit(130);
    process.stderr.write("baton: forcing the workers to stop\n");
    const force = async () => {
      const ids = await workers();
      if (ids.length > 0) await baton.stop(ids, { graceSeconds: 0 });
    };
    const deadline = setTimeout(() => process.exit(130), 10_000);
    deadline.unref();
    void force()
      .catch(() => {})
      .finally(() => process.exit(130));
  };
  process.on("SIGINT", onSigint);
  return { dispose: () => process.off("SIGINT", onSigint) };
}
