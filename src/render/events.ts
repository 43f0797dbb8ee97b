import { costText } from "../cost/cost.js";
import type { BatonEvent } from "../events/types.js";
import { count, tokens } from "./numbers.js";
import { reasonText } from "./workers.js";

/** A size in bytes for people: `812 B`, `4.1 KiB`, `2.0 MiB`. */
function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** What an event says, in one line for people (no time, no sequence number). */
export function eventText(event: BatonEvent): string {
  switch (event.type) {
    case "spawned": {
      const what = [event.label, event.role, event.backend].filter(Boolean).join(", ");
      const extra = event.run
        ? ` in run ${event.run}`
        : event.continues
          ? ` continuing ${event.continues}`
          : "";
      return `${event.worker} spawned (${what})${extra}`;
    }
    case "state":
      return event.reason && event.to !== "running" && event.to !== "queued"
        ? `${event.worker} ${event.to}: ${reasonText({ state: event.to, reason: event.reason })}`
        : `${event.worker} ${event.to}`;
    case "started":
      return `${event.worker} agent started, pid ${event.pid}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ""}`;
    case "thread":
      return `${event.worker} thread ${event.threadId}`;
    case "usage":
      return `${event.worker} ${tokens(event.tokens)}${event.cost ? `, ${costText(event.cost)}` : ""}`;
    case "output":
      return `${event.worker} output ${bytes(event.bytes)}`;
    case "retry":
      return `${event.worker} retry ${event.retry}: ${event.reason}`;
    case "answer":
      return `${event.worker} answer recorded (${count(event.chars)} characters)`;
    case "damage":
      return `${event.worker} store damage: ${event.files.join(", ")}`;
    case "problem":
      return `problem: ${event.text}`;
    case "plan":
      return `plan: ${event.done} of ${event.steps} steps done`;
    case "run":
      return `run ${event.run} (${event.pattern}) ${event.phase === "started" ? "started" : (event.state ?? "ended")}`;
    case "step":
      return event.phase === "started"
        ? `run ${event.run} step: ${event.step}`
        : `run ${event.run} step done: ${event.step}${event.workers.length ? ` (${event.workers.join(" ")})` : ""}`;
  }
}

/** `HH:MM:SS` of an event's time, in local time. */
export function eventClock(event: BatonEvent): string {
  const at = new Date(event.at);
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}
