import { type Readable, Transform, type TransformCallback } from "node:stream";

/** What is known of a line that was too long to read: its first and last bytes, and its size. */
export interface LongLine {
  readonly head: string;
  readonly tail: string;
  readonly bytes: number;
}

const EDGE_BYTES = 512;

/**
 * `input` with every line longer than `maxBytes` left out, and reported to `onTooLong` instead. The MCP
 * SDK's stdio transport closes the whole session on a message larger than its buffer; behind this, it
 * never sees one, and the server goes on answering. A line is held until its newline comes (or it grows
 * too long), so the transport gets whole lines only.
 */
export function boundedLines(
  input: Readable,
  maxBytes: number,
  onTooLong: (line: LongLine) => void,
): Readable {
  let held: Buffer[] = [];
  let heldBytes = 0;
  let dropped: { head: Buffer; tail: Buffer; bytes: number } | undefined;

  const take = (part: Buffer) => {
    if (dropped) {
      dropped.bytes += part.length;
      dropped.tail = Buffer.concat([dropped.tail, part]).subarray(-EDGE_BYTES);
      return;
    }
    held.push(part);
    heldBytes += part.length;
    if (heldBytes > maxBytes) {
      const line = Buffer.concat(held);
      dropped = { head: line.subarray(0, EDGE_BYTES), tail: line.subarray(-EDGE_BYTES), bytes: line.length };
      held = [];
      heldBytes = 0;
    }
  };

  const lines = new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      let start = 0;
      for (let end = chunk.indexOf(10); end >= 0; end = chunk.indexOf(10, start)) {
        take(chunk.subarray(start, end));
        if (dropped) {
          onTooLong({
            head: dropped.head.toString("utf8"),
            tail: dropped.tail.toString("utf8"),
            bytes: dropped.bytes,
          });
          dropped = undefined;
        } else {
          held.push(Buffer.from("\n"));
          this.push(Buffer.concat(held));
          held = [];
          heldBytes = 0;
        }
        start = end + 1;
      }
      if (start < chunk.length) take(chunk.subarray(start));
      done();
    },
  });
  input.on("error", (error) => lines.destroy(error));
  return input.pipe(lines);
}

/**
 * The id and method of a JSON-RPC request cut short as `line`, where they can be told: the id is looked
 * for where clients put it, last (the SDK's client) or right after `"jsonrpc"` at the start.
 */
export function requestOf(line: LongLine): { id: string | number; method?: string } | undefined {
  const id =
    /"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")\s*\}\s*$/.exec(line.tail)?.[1] ??
    /^\s*\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")/.exec(line.head)?.[1];
  if (id === undefined) return undefined;
  const method =
    /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?(?:"id"\s*:\s*[^,]+,\s*)?"method"\s*:\s*"([^"]*)"/.exec(
      line.head,
    )?.[1];
  return { id: JSON.parse(id) as string | number, ...(method === undefined ? {} : { method }) };
}
