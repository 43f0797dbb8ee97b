import { eastAsianWidth } from "get-east-asian-width";
import { terminalText } from "./terminal-text.js";

// How many columns text takes on a terminal, by user-perceived character (grapheme): a wide one (CJK,
// fullwidth, an emoji shown as one) two, a combining mark or a format character none, anything else
// one. A control character counts as what a terminal is shown for it (`\u202e`, see terminal-text.ts).
// Tables pad by this, not by UTF-16 code units.

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]/u;
const PICTOGRAPH = /\p{Extended_Pictographic}/u;
/** Zero-width joiner and the emoji presentation selector: an emoji sequence shown as one. */
const EMOJI_JOINERS = /[\u200d\ufe0f]/;

let segmenter: Intl.Segmenter | undefined;

function graphemes(text: string): Iterable<string> {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  return [...segmenter.segment(text)].map((s) => s.segment);
}

function columnsOf(grapheme: string): number {
  const shown = terminalText(grapheme);
  if (shown !== grapheme) return shown.length;
  const first = grapheme.codePointAt(0) ?? 0;
  if (PICTOGRAPH.test(grapheme) && EMOJI_JOINERS.test(grapheme)) return 2;
  if (ZERO_WIDTH.test(grapheme)) return 0;
  return eastAsianWidth(first);
}

/** The columns `text` takes. */
export function displayWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let width = 0;
  for (const grapheme of graphemes(text)) width += columnsOf(grapheme);
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
  for (const grapheme of graphemes(text)) {
    const w = columnsOf(grapheme);
    if (width + w > columns - 1) break;
    out += grapheme;
    width += w;
  }
  return `${out}…`;
}
