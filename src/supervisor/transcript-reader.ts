import { DEFAULT_POLL_BYTES, type PollParams } from "../protocol/messages.js";
import type { Store } from "../store/store.js";
import { wholeLines } from "../transcript/lines.js";
import { isFinal } from "../worker/state.js";
import type { WorkerInfo } from "../worker/types.js";
import type { Clock } from "./clock.js";
import type { Entry, WorkerTable } from "./worker-table.js";

/** What `poll` returns: the output since the reader's cursor, cut to the last `maxBytes`. */
export interface PollResult {
  readonly id: string;
  readonly state: WorkerInfo["state"];
  readonly output: string;
  /** Pass back as `since` to continue from here; also remembered per reader. */
  readonly cursor: number;
  /** Bytes of new output left out because of `maxBytes` (the oldest ones). */
  readonly cut: number;
  /** The backend that ran the worker: whose parser reads its output (a readable view). */
  readonly backend: string;
}

/** One worker's poll cursors, and the write of them to the store. */
interface Cursors {
  /** Each reader's cursor, read from the store on the first poll after a restart. */
  readonly read: Promise<Map<string, number>>;
  /** The write under way, if any; `dirty`: another is due when it ends. */
  saving?: Promise<void> | undefined;
  dirty?: boolean;
}

/**
 * Reads workers' transcripts for `poll`: what each reader has not seen yet, from its cursor, which is
 * kept in the store so that it survives a supervisor restart. A poll with `waitMs` returns as soon as
 * there is output, or the worker ends.
 */
export class TranscriptReader {
  private readonly cursors = new Map<string, Cursors>();

  constructor(
    private readonly store: Store,
    private readonly table: WorkerTable,
    private readonly clock: Clock,
  ) {}

  /** A new worker: it has no stored cursors to read. */
  fresh(id: string): void {
    this.cursors.set(id, { read: Promise.resolve(new Map()) });
  }

  async poll(params: PollParams, signal?: AbortSignal): Promise<PollResult> {
    const entry = this.table.get(params.id);
    const reader = params.reader ?? "default";
    const kept = this.cursorsOf(params.id);
    const cursors = await kept.read;
    const cursor = params.since ?? cursors.get(reader) ?? 0;
    const maxBytes = params.maxBytes ?? DEFAULT_POLL_BYTES;
    const deadline = this.clock.now() + (params.waitMs ?? 0);
    for (;;) {
      const running = !isFinal(entry.status.state);
      const end = await this.transcriptEnd(entry);
      const from = Math.min(cursor, end);
      let start = Math.max(from, end - maxBytes);
      let bytes = await this.store.readTranscript(params.id, start, end - start);
      // Never start in the middle of a UTF-8 character.
      let skip = 0;
      while (skip < bytes.length && skip < 4 && (bytes[skip]! & 0xc0) === 0x80) skip++;
      bytes = bytes.subarray(skip);
      start += skip;
      if (params.wholeLines) ({ bytes, start } = wholeLines(bytes, start, from, running));
      const shownTo = params.wholeLines ? start + bytes.length : end;
      const left = deadline - this.clock.now();
      if (shownTo <= cursor && running && left > 0 && !signal?.aborted) {
        // Nothing new (or, for a readable poll, no whole line yet): wait for output or the end.
        await entry.output.wait(this.clock, left, signal);
        continue;
      }
      const next = Math.max(shownTo, from);
      if (cursors.get(reader) !== next) {
        cursors.set(reader, next);
        this.save(params.id, kept, cursors);
      }
      return {
        id: params.id,
        state: entry.status.state,
        output: bytes.toString("utf8"),
        cursor: next,
        cut: start - from,
        backend: entry.spec.backend,
      };
    }
  }

  /** Resolves once every cursor write under way has ended. */
  async flush(): Promise<void> {
    await Promise.all([...this.cursors.values()].map((kept) => kept.saving));
  }

  private cursorsOf(id: string): Cursors {
    let kept = this.cursors.get(id);
    if (!kept) {
      kept = { read: this.store.readCursors(id) };
      this.cursors.set(id, kept);
    }
    return kept;
  }

  private async transcriptEnd(entry: Entry): Promise<number> {
    return entry.run ? entry.run.transcriptBytes : this.store.transcriptSize(entry.spec.id);
  }

  /**
   * Keeps the cursors in the store, so that a poll after a restart goes on where the last one ended.
   * One write at a time, the newest cursors last. A write that fails costs nothing but output shown
   * twice, so it is not reported.
   */
  private save(id: string, kept: Cursors, cursors: ReadonlyMap<string, number>): void {
    if (kept.saving) {
      kept.dirty = true;
      return;
    }
    kept.saving = (async () => {
      do {
        kept.dirty = false;
        await this.store.writeCursors(id, cursors).catch(() => {});
      } while (kept.dirty);
      kept.saving = undefined;
    })();
  }
}
