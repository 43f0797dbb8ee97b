import { stat } from "node:fs/promises";
import type { Usage } from "../worker/types.js";
import { costOf } from "./cost.js";
import type { PriceTable } from "./prices.js";
import type { Cost } from "./types.js";
import { loadUserPrices } from "./user-prices.js";

/**
 * The prices a supervisor charges workers at: the user's tables (read from `files`) before the ones
 * Baton ships. The files are looked at again (one stat each) for every spawn and every attempt's
 * start (spawns that come together share a look), and read again when one changed: an edit applies to
 * what is priced from then on, running workers included, with no restart.
 */
export class Pricing {
  private tables: readonly PriceTable[] = [];
  /** What the files looked like when last read: size, time and inode of each, or "-" if missing. */
  private seen: string | undefined;
  /** The look at the files under way, and the one that follows it for calls made meanwhile. */
  private looking: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly files: readonly string[]) {}

  /**
   * Reads the tables again if a file changed. A table that is wrong throws its one-line error (naming
   * the file and line) and is tried again next time; the tables read before stay in use meanwhile.
   * Calls made while a look is under way share the one look that follows it (a burst of spawns costs
   * two looks, not one each), and every call still sees the files as they were when it was made.
   */
  refresh(): Promise<void> {
    if (!this.looking) {
      this.looking = this.look().finally(() => {
        this.looking = undefined;
      });
      return this.looking;
    }
    this.next ??= this.looking
      .catch(() => {})
      .then(() => {
        this.next = undefined;
        return this.refresh();
      });
    return this.next;
  }

  private async look(): Promise<void> {
    const now = (
      await Promise.all(
        this.files.map((file) =>
          stat(file).then(
            (s) => `${s.size}:${s.mtimeMs}:${s.ino}`,
            () => "-",
          ),
        ),
      )
    ).join("|");
    if (now === this.seen) return;
    this.tables = await loadUserPrices(this.files);
    this.seen = now;
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
