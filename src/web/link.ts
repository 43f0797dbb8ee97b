import type { Baton } from "../client/baton.js";
import { BatonError } from "../errors.js";

// The dashboard's one connection to the workspace's supervisor, shared by every request and event
// stream. A supervisor can go away while the dashboard runs (`baton shutdown`, a crash); the next
// request then connects again, without starting one: the dashboard shows a workspace, it does not
// keep one alive.

export class SupervisorLink {
  private current: Promise<Baton> | undefined;
  private opened = 0;

  constructor(private readonly open: (options: { readonly autoStart: boolean }) => Promise<Baton>) {}

  /** The connection, opened (or opened again) if need be. */
  get(): Promise<Baton> {
    if (!this.current) {
      const opening = this.open({ autoStart: this.opened++ === 0 });
      this.current = opening;
      opening.catch(() => {
        if (this.current === opening) this.current = undefined;
      });
    }
    return this.current;
  }

  /** Runs `work` on the connection; a connection found closed is dropped, so the next call reconnects. */
  async use<T>(work: (baton: Baton) => Promise<T>): Promise<T> {
    const baton = await this.get();
    try {
      return await work(baton);
    } catch (error) {
      this.failed(baton, error);
      throw error;
    }
  }

  /** Tells the link that `error` happened on `baton`: if the supervisor went away, it is dropped. */
  failed(baton: Baton, error: unknown): void {
    if (!(error instanceof BatonError) || error.code !== "supervisor") return;
    void this.current?.then((now) => {
      if (now !== baton) return;
      this.current = undefined;
      baton.close();
    });
  }

  close(): void {
    void this.current?.then((baton) => baton.close()).catch(() => {});
    this.current = undefined;
  }
}
