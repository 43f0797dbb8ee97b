import { renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { appendStoreFileSync, inStoreSync, readStoreFileSync } from "../store/no-follow.js";
import type { BatonEvent } from "./types.js";

/**
 * Events are written this long after the first of a batch: readers are served from memory, and the log
 * is for catching up after a restart, so one write serves every event of a burst (workers starting and
 * ending together). A supervisor killed outright loses at most this much of the log; shutdown writes all.
 */
const FLUSH_MS = 50;

/** Past this size the log is set aside (one generation kept) when a supervisor starts. */
const ROTATE_BYTES = 8 * 1024 * 1024;

/**
 * The workspace's events on disk, one JSON object a line, so that sequence numbers go on across
 * supervisor restarts and a reader that fell behind the memory window can still catch up. Written in
 * batches (one append per {@link FLUSH_MS}), through the store's no-follow helpers like every store file.
 */
export class EventLog {
  private readonly path: string;
  private readonly oldPath: string;
  private pending: string[] = [];
  private flushing = false;

  constructor(
    private readonly home: string,
    /** Called once per failed write; events stay in memory, and the stream goes on. */
    private readonly onError: (message: string) => void,
  ) {
    this.path = join(home, "events.jsonl");
    this.oldPath = join(home, "events.old.jsonl");
  }

  /** The last sequence number recorded, 0 for a new store; sets a large log aside first. */
  open(): number {
    let size = 0;
    try {
      size = statSync(this.path).size;
    } catch {
      // no log yet
    }
    const last = lastSeq(this.readAll(this.path));
    if (size > ROTATE_BYTES) {
      try {
        inStoreSync(this.home, this.path, (at) =>
          renameSync(at, `${at.slice(0, -".jsonl".length)}.old.jsonl`),
        );
      } catch {
        // kept in place: it only grows further
      }
    }
    return last;
  }

  append(event: BatonEvent): void {
    this.pending.push(`${JSON.stringify(event)}\n`);
    if (this.flushing) return;
    this.flushing = true;
    setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  /** Writes what is pending now (also called at close). */
  flush(): void {
    this.flushing = false;
    if (this.pending.length === 0) return;
    const data = this.pending.join("");
    this.pending = [];
    try {
      appendStoreFileSync(this.home, this.path, data);
    } catch (error) {
      this.onError(`events.jsonl: ${(error as Error).message}`);
    }
  }

  /** Recorded events with `seq > since`, oldest first, at most `max`. */
  read(since: number, max: number): BatonEvent[] {
    const events: BatonEvent[] = [];
    for (const path of [this.oldPath, this.path]) {
      for (const event of this.readAll(path)) {
        if (event.seq > since) events.push(event);
        if (events.length >= max) return events;
      }
    }
    return events;
  }

  private readAll(path: string): BatonEvent[] {
    let text: string | undefined;
    try {
      text = readStoreFileSync(this.home, path);
    } catch {
      return []; // a link or a damaged file: nothing is read through it
    }
    if (!text) return [];
    const events: BatonEvent[] = [];
    for (const line of text.split("\n")) {
      const event = parseEvent(line);
      if (event) events.push(event);
    }
    return events;
  }
}

/** A line read back from the store: kept only if it has the head of an event (the rest is ours). */
function parseEvent(line: string): BatonEvent | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value = JSON.parse(line) as Partial<BatonEvent>;
    if (typeof value.seq === "number" && Number.isSafeInteger(value.seq) && typeof value.type === "string")
      return value as BatonEvent;
  } catch {
    // a torn last line (the supervisor died mid-write): skipped
  }
  return undefined;
}

function lastSeq(events: readonly BatonEvent[]): number {
  let last = 0;
  for (const event of events) last = Math.max(last, event.seq);
  return last;
}
