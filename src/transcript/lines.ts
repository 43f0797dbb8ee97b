/**
 * A readable poll never splits a line: an event cut in two cannot be parsed, and would show as
 * debris. Given the bytes a poll read (from byte `start` of the transcript, the reader's cursor at
 * `from`), this says which of them to show: from the first line start, when `--max-bytes` cut the
 * chunk (the cut then grows by the partial line), to the last line end, while the worker runs (the
 * cursor then stops there, and the rest of the line comes whole with the next poll). Cursors stay
 * byte offsets into the transcript, and each byte is still shown once.
 */
export function wholeLines(
  bytes: Buffer,
  start: number,
  from: number,
  running: boolean,
): { readonly bytes: Buffer; readonly start: number } {
  let first = 0;
  if (start > from) {
    const newline = bytes.indexOf(0x0a);
    first = newline < 0 ? 0 : newline + 1;
  }
  let last = bytes.length;
  if (running) {
    const newline = bytes.lastIndexOf(0x0a);
    last = newline < first ? first : newline + 1;
  }
  return { bytes: bytes.subarray(first, last), start: start + first };
}
