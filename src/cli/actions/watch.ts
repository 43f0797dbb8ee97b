import { BatonError } from "../../errors.js";
import { parseTargets } from "../../events/targets.js";
import { eventClock, eventText } from "../../render/events.js";
import { terminalJson } from "../../render/terminal-text.js";
import { type GlobalOptions, withBaton, writeErr, writeOut } from "../context.js";

/** `baton watch [TARGET...]`. */
export async function watch(
  global: GlobalOptions,
  names: string[],
  opts: { json?: boolean; since?: number },
): Promise<void> {
  const targets = parseTargets(names);
  if ("bad" in targets) {
    throw new BatonError(
      "usage",
      `watch: "${targets.bad}" is neither a worker id (w1, w2, ...) nor a run id (r1, r2, ...)`,
    );
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await withBaton(global, async (baton) => {
      const events = baton.follow(targets, {
        signal: controller.signal,
        ...(opts.since === undefined ? {} : { since: opts.since }),
        onMissed: (count) =>
          writeErr(`baton: warning: ${count} older events are no longer kept: they are not shown\n`),
      });
      for await (const event of events) {
        // JSON: exact strings, control characters escaped; text: shown visibly on a terminal.
        if (opts.json) process.stdout.write(`${terminalJson(event)}\n`);
        else writeOut(`${eventClock(event)} #${event.seq} ${eventText(event)}\n`);
      }
    });
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
