import { z } from "zod";
import { duration, reasonText } from "../../cli/render.js";
import { costText } from "../../cost/cost.js";
import { MAX_IDS, MAX_SEND_BYTES, textOfAtMost } from "../../protocol/messages.js";
import type { WaitResult } from "../../supervisor/supervisor.js";
import { isFinal } from "../../worker/state.js";
import type { WorkerInfo } from "../../worker/types.js";
import type { ConfiguredAgents } from "../agents.js";
import type { BatonSession } from "../session.js";
import { defineTool, type Tool } from "../tool.js";
import { list, workerId } from "./limits.js";
import { spawnTool } from "./spawn.js";

/** Poll's default and largest output: a model's context is the scarcest resource in the loop. */
export const POLL_DEFAULT_BYTES = 4096;
export const POLL_MAX_BYTES = 65_536;
/** MCP clients time a tool call out (codex: `tool_timeout_sec`, 60 s unless raised), so waits are short. */
export const WAIT_DEFAULT_SECONDS = 30;
export const WAIT_MAX_SECONDS = 600;
const POLL_READER = "mcp";

const workerIds = () => list(workerId, MAX_IDS);

/** The tools that start, watch, steer and read workers: one library call each. */
export function workerTools(session: BatonSession, cwd: string, agents: ConfiguredAgents): Tool[] {
  return [
    spawnTool(session, cwd, agents),
    defineTool({
      name: "poll",
      description:
        `What a worker printed since your last poll, without blocking. At most the last maxBytes (default ${POLL_DEFAULT_BYTES}) ` +
        "of new output; says how many earlier bytes were cut. Prefer result once it has ended.",
      input: z.strictObject({
        id: workerId,
        maxBytes: z.number().int().min(1).max(POLL_MAX_BYTES).optional(),
        waitSeconds: z
          .number()
          .min(0)
          .max(60)
          .optional()
          .describe("wait this long for new output (default 0)"),
        since: z.number().int().min(0).optional().describe("a cursor from an earlier poll, to read again"),
      }),
      example: { id: "w1", maxBytes: 2048 },
      readOnly: true,
      async run(args, signal) {
        const baton = await session.open();
        const polled = await baton.poll(
          args.id,
          {
            reader: POLL_READER,
            maxBytes: args.maxBytes ?? POLL_DEFAULT_BYTES,
            ...(args.since === undefined ? {} : { since: args.since }),
            ...(args.waitSeconds ? { waitMs: Math.round(args.waitSeconds * 1000) } : {}),
          },
          signal,
        );
        const cut = polled.cut > 0 ? `; ${polled.cut} earlier bytes cut` : "";
        const output = polled.output.replaceAll("\r\n", "\n");
        return {
          text: `${polled.id} ${polled.state}; cursor ${polled.cursor}${cut}\n${output || "(no new output)"}`,
        };
      },
    }),
    defineTool({
      name: "send",
      description: "Type text into a worker's terminal, then Enter (enter: false to leave it out).",
      input: z.strictObject({
        id: workerId,
        text: textOfAtMost(MAX_SEND_BYTES, "the text", "send less at a time"),
        enter: z.boolean().optional(),
      }),
      example: { id: "w1", text: "y" },
      async run(args, signal) {
        const baton = await session.open();
        await baton.send(args.id, args.text, args.enter === undefined ? {} : { enter: args.enter }, signal);
        return { text: `sent to ${args.id}` };
      },
    }),
    defineTool({
      name: "interrupt",
      description: "Send Ctrl+C to a worker's terminal. Use stop to end it for good.",
      input: z.strictObject({ id: workerId }),
      example: { id: "w1" },
      async run(args, signal) {
        const baton = await session.open();
        await baton.interrupt(args.id, signal);
        return { text: `interrupted ${args.id}` };
      },
    }),
    defineTool({
      name: "stop",
      description:
        "Stop workers: Ctrl+C, then SIGTERM, then SIGKILL after graceSeconds (default 3). Give ids, or all: true.",
      input: z.strictObject({
        ids: workerIds().optional(),
        all: z.boolean().optional(),
        graceSeconds: z.number().min(0).max(60).optional(),
      }),
      example: { ids: ["w2"] },
      async run(args, signal) {
        if (args.all === true && args.ids?.length) {
          return {
            isError: true,
            text: 'stop: give ids or all: true, not both. Call it like: {"ids": ["w2"]}',
          };
        }
        if (args.all !== true && !args.ids?.length) {
          return {
            isError: true,
            text: 'stop: say which workers. Call it like: {"ids": ["w2"]} or {"all": true}',
          };
        }
        const grace = args.graceSeconds === undefined ? {} : { graceSeconds: args.graceSeconds };
        const baton = await session.open();
        const stopped = await baton.stop(args.all ? "all" : (args.ids ?? []), grace, signal);
        return { text: stopped.length ? `stopped ${stopped.join(" ")}` : "nothing to stop" };
      },
    }),
    defineTool({
      name: "wait",
      description:
        `Block until the workers end (default: every unfinished one), or one of them with any: true, ` +
        `or timeoutSeconds pass (default ${WAIT_DEFAULT_SECONDS}, max ${WAIT_MAX_SECONDS}). Returns states (with time and cost) only, at most ${WAIT_MAX_LINES} lines; read answers with result.`,
      input: z.strictObject({
        ids: workerIds().optional(),
        any: z.boolean().optional(),
        timeoutSeconds: z.number().positive().max(WAIT_MAX_SECONDS).optional(),
      }),
      example: { ids: ["w1", "w2"], timeoutSeconds: 30 },
      readOnly: true,
      async run(args, signal) {
        const baton = await session.open();
        const seconds = args.timeoutSeconds ?? WAIT_DEFAULT_SECONDS;
        const waited = await baton.wait(
          args.ids ?? [],
          { ...(args.any ? { any: true } : {}), timeoutMs: Math.round(seconds * 1000) },
          signal,
        );
        return { text: [headline(waited, seconds), ...stateLines(waited.workers)].join("\n") };
      },
    }),
  ];
}

/** At most this many workers are named in a wait's headline, and shown on a line of their own. */
const WAIT_MAX_NAMED = 20;
const WAIT_MAX_LINES = 50;

/** What a wait came to, in one line: it is what a model reads first. */
function headline(waited: WaitResult, seconds: number): string {
  const ids = (workers: readonly WorkerInfo[]) => {
    const more = workers.length - WAIT_MAX_NAMED;
    const named = workers.slice(0, WAIT_MAX_NAMED).map((w) => w.id);
    return more > 0 ? `${named.join(" ")} and ${more} more` : named.join(" ");
  };
  const running = waited.workers.filter((w) => !isFinal(w.state));
  if (waited.timedOut) return `still running after ${seconds}s: ${ids(running)} (call wait again, or poll)`;
  if (waited.workers.length === 0) return "no unfinished workers";
  if (running.length === 0) return "all ended";
  return `ended: ${ids(waited.workers.filter((w) => isFinal(w.state)))}`;
}

/** A line per worker, the ended ones first (they are the news), bounded; the rest are counted. */
function stateLines(workers: readonly WorkerInfo[]): string[] {
  const ordered = [...workers.filter((w) => isFinal(w.state)), ...workers.filter((w) => !isFinal(w.state))];
  const lines = ordered.slice(0, WAIT_MAX_LINES).map(stateLine);
  const more = ordered.length - lines.length;
  if (more > 0) lines.push(`(${more} more not shown: call list, or wait on fewer ids)`);
  return lines;
}

function stateLine(worker: WorkerInfo): string {
  const label = worker.label ? ` (${worker.label})` : "";
  const why = worker.state !== "succeeded" && isFinal(worker.state) ? `: ${reasonText(worker)}` : "";
  const cost = worker.cost ? `, ${costText(worker.cost)}` : "";
  return `${worker.id}${label} ${worker.state}${why}, ${duration(worker.elapsedMs)}${cost}`;
}
