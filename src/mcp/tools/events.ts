import { z } from "zod";
import { EVENT_TYPES } from "../../events/types.js";
import { eventClock, eventText } from "../../render/events.js";
import type { BatonSession } from "../session.js";
import { defineTool, type Tool } from "../tool.js";
import { workerId } from "./limits.js";

/** Events `events` returns by default and at most in one call. */
export const EVENTS_DEFAULT = 50;
export const EVENTS_MAX = 500;
/** The longest `events` waits for the first new event. */
const EVENTS_MAX_WAIT_MS = 30_000;

/** The tool an orchestrating agent catches up with: what happened since the last event it saw. */
export function eventTool(session: BatonSession): Tool {
  return defineTool({
    name: "events",
    description:
      "What happened in the workspace since event number `since` (0: the oldest kept): spawns, state moves, " +
      "tokens, answers, runs and steps, one line each, oldest first. " +
      `At most max (default ${EVENTS_DEFAULT}, max ${EVENTS_MAX}); the last line gives the next \`since\`. ` +
      `waitMs (max ${EVENTS_MAX_WAIT_MS}) waits for the first new event; types (["state"]) keeps only those. ` +
      "One call catches up on every worker.",
    input: z.strictObject({
      since: z.number().int().min(0).optional().describe("the last event number seen (default 0)"),
      max: z.number().int().min(1).max(EVENTS_MAX).optional(),
      waitMs: z.number().int().min(0).max(EVENTS_MAX_WAIT_MS).optional(),
      workers: z.array(workerId).max(100).optional().describe("only events about these workers"),
      types: z
        .array(z.enum(EVENT_TYPES))
        .min(1)
        .max(EVENT_TYPES.length)
        .optional()
        .describe("only events of these types"),
    }),
    example: { since: 0, max: EVENTS_DEFAULT },
    readOnly: true,
    async run(args, signal) {
      const baton = await session.open();
      const since = args.since ?? 0;
      const max = args.max ?? EVENTS_DEFAULT;
      // One more than asked, to know whether the reader must call again.
      const batch = await baton.events(
        since,
        {
          max: max + 1,
          ...(args.waitMs ? { waitMs: args.waitMs } : {}),
          ...(args.workers?.length ? { workers: args.workers } : {}),
          ...(args.types ? { types: args.types } : {}),
        },
        signal,
      );
      const shown = batch.events.slice(0, max);
      const more = batch.events.length > max;
      const next = more ? shown.at(-1)!.seq : batch.next;
      const lines = shown.map((event) => `#${event.seq} ${eventClock(event)} ${eventText(event)}`);
      if (batch.missed > 0) lines.unshift(`(${batch.missed} older events are no longer kept)`);
      if (shown.length === 0) lines.push("(no new events)");
      lines.push(more ? `(more: call events with since ${next})` : `(next: call events with since ${next})`);
      return { text: lines.join("\n") };
    },
  });
}
