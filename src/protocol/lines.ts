/** Splits a byte stream into lines, refusing any line longer than `maxBytes`. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number) {}

  /** Returns the complete lines in `chunk`; throws if a line grows past the limit. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, start)) {
      this.parts.push(chunk.subarray(start, i));
      lines.push(Buffer.concat(this.parts).toString("utf8"));
      this.parts = [];
      this.size = 0;
      start = i + 1;
    }
    if (start < chunk.length) {
      this.size += chunk.length - start;
      if (this.size > this.maxBytes) throw new Error(`a message is longer than ${this.maxBytes} bytes`);
      this.parts.push(chunk.subarray(start));
    }
    return lines;
  }
}

/**
 * The longest request the supervisor reads: room for a 10 MB prompt rendered twice and an environment,
 * while a client that never ends its line cannot make the supervisor hold more than this per connection.
 */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** The longest reply a client reads: a poll of 64 MiB of output can grow when escaped as JSON. */
export const MAX_REPLY_BYTES = 400 * 1024 * 1024;
