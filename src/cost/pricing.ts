import { statSync } from "node:fs";
import type { Usage } from "../worker/types.js";
import { costOf } from "./cost.js";
import type { PriceTable } from "./prices.js";
import type { Cost } from "./types.js";
import { loadUserPrices } from "./user-prices.js";

/**
 * The prices a supervisor charges workers at: the user's tables (read from `files`) before the ones
 * Baton ships. The files are looked at again (one stat each, synchronous: a few microseconds, where a
 * look through the thread pool held every spawn of a burst up for milliseconds) for every spawn and
 * every attempt's start, and read again when one changed: an edit applies to what is priced from then
 * on, running workers included, with no restart.
 */
export class Pricing {
  private tables: readonly PriceTable[] = [];
  /** What the files looked like when last read: size, time and inode of each, or "-" if missing. */
  private seen: string | undefined;
  /** The read under way of files that changed, and what they looked like when it began. */
  private reading: { readonly look: string; readonly done: Promise<void> } | undefined;

  constructor(private readonly files: readonly string[]) {}

  /**
   * Reads the tables again if a file changed. A table that is wrong throws its one-line error (naming
   * the file and line) and is tried again next time; the tables read before stay in use meanwhile.
   * Calls that find the files as a read under way found them share that read; every call still sees
   * the files as they were when it was made.
   */
  refresh(): Promise<void> {
    const look = this.files.map(lookAt).join("|");
    if (look === this.seen) return Promise.resolve();
    if (this.reading?.look === look) return this.reading.done;
    // Only the newest read's tables are kept: an older one that ends later read older files.
    const done = loadUserPrices(this.files).then((tables) => {
      if (this.reading !== reading) return;
      this.tables = tables;
      this.seen = look;
    });
    const reading = { look, done };
    this.reading = reading;
    const clear = () => {
      if (this.reading === reading) this.reading = undefined;
    };
    done.then(clear, clear);
    return done;
  }

  /** What `usage` of `model` costs; an agent's own figure wins. */
  price(usage: Usage, model: string | undefined, agentUsd?: number): Cost {
    return costOf({ usage, model, agentUsd, userTables: this.tables });
  }

  /** Why a worker of `model` could not be priced, or undefined if it can. */
  unpriced(model: string | undefined): string | undefined {
    const probe = this.price(
      { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningOutputTokens: 0 },
      model,
    );
    return probe.source === "unpriced" ? probe.why : undefined;
  }
}

/** A file's size, time and inode, or "-" if it cannot be looked at. */
function lookAt(file: string): string {
  try {
    const s = statSync(file, { throwIfNoEntry: false }); // a missing file is the usual case: no error made
    return s ? `${s.size}:${s.mtimeMs}:${s.ino}` : "-";
  } catch {
    return "-";
  }
}
