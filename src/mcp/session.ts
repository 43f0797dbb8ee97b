import { Baton, type BatonOptions } from "../client/baton.js";

/**
 * The MCP server's Baton, opened on first use: a client that registers the server but never
 * orchestrates does not start a supervisor. After the supervisor went away (`baton shutdown`, idle
 * exit) the next call opens a new connection, starting a supervisor again if needed.
 */
export class BatonSession {
  private opening: Promise<Baton> | undefined;

  constructor(private readonly options: BatonOptions) {}

  open(): Promise<Baton> {
    if (!this.opening) {
      const opening = Baton.open(this.options);
      this.opening = opening;
      opening.catch(() => {
        if (this.opening === opening) this.opening = undefined;
      });
    }
    return this.opening;
  }

  /** Drops the connection, so that the next call opens a new one. */
  async reset(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    (await opening?.catch(() => undefined))?.close();
  }
}
