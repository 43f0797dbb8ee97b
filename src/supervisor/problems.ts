import type { EventBus } from "../events/bus.js";

/** Past this many, only their number grows: the list is for people to read. */
const MAX_PROBLEMS = 100;

/**
 * Problems with the store or with Baton itself: found while loading the store, or writes that failed
 * since. Each is recorded once and announced as a `problem` event; `ls` and `hello` list them.
 */
export class Problems {
  readonly lines: string[] = [];
  private more = 0;

  constructor(private readonly events: EventBus) {}

  add(line: string): void {
    if (this.lines.includes(line)) return;
    this.events.emit({ type: "problem", text: line });
    if (this.lines.length < MAX_PROBLEMS) this.lines.push(line);
    else this.lines[MAX_PROBLEMS] = `and ${++this.more} more problems`;
  }
}
