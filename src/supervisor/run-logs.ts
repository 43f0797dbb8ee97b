import { closeSync, writeSync } from "node:fs";
import { type Store, storeError } from "../store/store.js";

/**
 * An attempt's transcript and agent events, appended to the worker's store folder as they come,
 * synchronously. A write the store refuses (a full disk, a read-only remount) does not stop the run:
 * the first such problem is kept in {@link storeError}, and the answer is still recorded.
 */
export class RunLogs {
  /** The transcript's size: what reached the file, so that poll cursors stay true. */
  transcriptBytes: number;
  /** The first write to the store that failed. */
  storeError: string | undefined;
  private transcriptFd: number | undefined;
  private eventsFd: number | undefined;

  constructor(
    private readonly store: Store,
    private readonly id: string,
    transcriptBytes: number,
  ) {
    this.transcriptBytes = transcriptBytes;
  }

  /** Opens both logs; throws when the store cannot give them. */
  open(): void {
    this.transcriptFd = this.store.openLog(this.id, "transcript.log");
    this.eventsFd = this.store.openLog(this.id, "events.jsonl");
  }

  /** Appends `text` to the transcript; returns false when the transcript is not open. */
  transcript(text: string): boolean {
    if (this.transcriptFd === undefined) return false;
    const bytes = Buffer.from(text, "utf8");
    try {
      // A nearly full disk takes part of a write: count what reached the file, so cursors stay true.
      this.transcriptBytes += writeSync(this.transcriptFd, bytes);
    } catch (error) {
      this.problem(`its transcript is incomplete: ${this.storeProblem(error, "transcript.log")}`);
    }
    return true;
  }

  /** Appends one agent event (`json`, an object's JSON) as a JSON line, stamped with `at` first. */
  event(at: string, json: string): void {
    if (this.eventsFd === undefined) return;
    const rest = json.length > 2 ? `,${json.slice(1)}` : "}";
    try {
      writeSync(this.eventsFd, `{"at":${JSON.stringify(at)}${rest}\n`);
    } catch (error) {
      this.problem(`its events are incomplete: ${this.storeProblem(error, "events.jsonl")}`);
    }
  }

  /** Keeps the first problem with the store. */
  problem(text: string): void {
    this.storeError ??= text;
  }

  close(): void {
    for (const fd of [this.transcriptFd, this.eventsFd]) {
      try {
        if (fd !== undefined) closeSync(fd);
      } catch {} // a close that fails loses nothing: every write was already made, or reported
    }
    this.transcriptFd = this.eventsFd = undefined;
  }

  private storeProblem(error: unknown, name: "transcript.log" | "events.jsonl"): string {
    return storeError(this.store.home, error, this.store.file(this.id, name)).message;
  }
}
