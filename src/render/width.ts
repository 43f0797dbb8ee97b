import { eastAsianWidth } from "get-east-asian-width";

// How many columns text takes on a terminal: a wide character (CJK, fullwidth) two, a combining mark
// or a format character none, anything else one. Tables pad by this, not by UTF-16 code units.

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

function columnsOf(char: string): number {
  if (ZERO_WIDTH.test(char)) return 0;
  return eastAsianWidth(char.codePointAt(0) ?? 0);
}

/** The columns `text` takes. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += columnsOf(char);
  return width;
}

/** `text` padded with spaces to `columns`. */
export function padColumns(text: string, columns: number): string {
  return text + " ".repeat(Math.max(0, columns - displayWidth(text)));
}

/** `text` cut to at most `columns`, ending in `…` where it was cut. */
export function clipColumns(text: string, columns: number): string {
  if (displayWidth(text) <= columns) return text;
  let out = "";
  let width = 0;
  for (const char of text) {
    const w = columnsOf(char);
    if (width + w > columns - 1) break;
    out += char;
    width += w;
  }
  return `${out}…`;
}
