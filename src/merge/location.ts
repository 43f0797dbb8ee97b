// Workers name the same place in many ways: `./src/a.ts:12`, `src/a.ts:12-14`, `src/a.ts line 12`,
// `src/a.ts#L12`. A location is reduced to a file and, when given, a line range, so those all meet.

/** A location reduced to what matching needs. */
export interface Place {
  /** Lowercased, forward slashes, no leading `./`. */
  readonly file: string;
  /** Inclusive line range, when the location names lines. */
  readonly lines: readonly [number, number] | undefined;
}

const RANGE = String.raw`(\d+)(?:\s*(?:-|–|—|\.\.|to)\s*l?(\d+))?`;
const LINE_FORMS = [
  new RegExp(`^(.+?)#l${RANGE}$`), // GitHub anchor: a.ts#L12-L14
  new RegExp(String.raw`^(.+?):${RANGE}(?::\d+)?$`), // a.ts:12, a.ts:12-14, a.ts:12:5
  new RegExp(String.raw`^(.+?)[\s,(]+(?:lines?|l\.)\s*${RANGE}\)?$`), // a.ts line 12, a.ts (lines 12-14)
];

/** The file and lines a location names, or undefined when it is empty and so names nothing. */
export function placeOf(location: string): Place | undefined {
  const text = location
    .trim()
    .toLowerCase()
    .replace(/^`(.*)`$/, "$1")
    .replaceAll("\\", "/")
    .replace(/^(?:\.\/)+/, "");
  if (text === "") return undefined;
  for (const form of LINE_FORMS) {
    const match = form.exec(text);
    if (!match?.[1] || !match[2]) continue;
    const start = Number(match[2]);
    const end = match[3] ? Number(match[3]) : start;
    return { file: match[1].trim(), lines: [Math.min(start, end), Math.max(start, end)] };
  }
  return { file: text, lines: undefined };
}

/**
 * Whether two places are the same spot: the same file with overlapping lines. A place without lines names
 * a whole file (or a section of a document), which holds many issues, so it never matches by place alone;
 * merging two different issues would hide one, which is worse than listing a duplicate.
 */
export function samePlace(a: Place | undefined, b: Place | undefined): boolean {
  if (!a?.lines || !b?.lines || a.file !== b.file) return false;
  return a.lines[0] <= b.lines[1] && b.lines[0] <= a.lines[1];
}
