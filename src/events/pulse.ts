/** The most output events one worker gets a second: a view needs to know output arrives, not each write. */
const EVERY_MS = 250;

/**
 * Turns a worker's stream of output writes into a few `output` events a second: the first write at
 * once, then the latest size at most every {@link EVERY_MS}, and the last size when the worker ends.
 */
export class OutputPulse {
  private readonly latest = new Map<string, { bytes: number; sent: number; timer?: NodeJS.Timeout }>();

  constructor(private readonly emit: (worker: string, bytes: number) => void) {}

  grew(worker: string, bytes: number): void {
    const known = this.latest.get(worker);
    if (!known) {
      this.emit(worker, bytes);
      const entry: { bytes: number; sent: number; timer?: NodeJS.Timeout } = { bytes, sent: bytes };
      entry.timer = setTimeout(() => this.tick(worker), EVERY_MS);
      this.latest.set(worker, entry);
      return;
    }
    known.bytes = bytes;
    known.timer ??= setTimeout(() => this.tick(worker), EVERY_MS);
  }

  private tick(worker: string): void {
    const known = this.latest.get(worker);
    if (!known) return;
    known.timer = undefined;
    if (known.bytes === known.sent) {
      // Quiet for a whole period: the next write is sent at once again.
      this.latest.delete(worker);
      return;
    }
    known.sent = known.bytes;
    this.emit(worker, known.bytes);
    known.timer = setTimeout(() => this.tick(worker), EVERY_MS);
  }

  /** The worker ended: its last size goes out now, before its end is announced. */
  end(worker: string): void {
    const known = this.latest.get(worker);
    if (!known) return;
    clearTimeout(known.timer);
    this.latest.delete(worker);
    if (known.bytes !== known.sent) this.emit(worker, known.bytes);
  }

  close(): void {
    for (const worker of [...this.latest.keys()]) this.end(worker);
  }
}
