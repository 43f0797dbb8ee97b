// Text that came from a worker or a model (answers, findings, plan steps, labels, reasons, transcripts)
// is data: shown on a terminal it must not clear the screen, set the title, move the cursor or reorder
// what the user reads. Every adapter that prints such text goes through this one module.

/**
 * The characters a terminal acts on instead of showing: C0 controls but tab and newline, DEL, the C1
 * controls (0x9b is a one-byte CSI), and the bidi embeddings, overrides and isolates that reorder text
 * (U+202A-U+202E, U+2066-U+2069; "Trojan Source").
 */
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/** The same characters but the C0 controls, which JSON.stringify already escapes. */
const UNESCAPED_BY_JSON = /[\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

const hex = (code: number, digits: number) => code.toString(16).padStart(digits, "0");

/**
 * `text` with every control character shown visibly: ESC as `\x1b`, a C1 control as `\x9b`, DEL as
 * `\x7f`, carriage return as `\r`, a bidi override as `\u202e`. Newline and tab are kept.
 */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, (char) => {
    if (char === "\r") return "\\r";
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  });
}

/**
 * What to write to `stream`: on a terminal, `text` made visible with {@link terminalText}; to a pipe or a
 * file, exactly `text`, since a script reading it may want every byte.
 */
export function textFor(stream: { readonly isTTY?: boolean }, text: string): string {
  return stream.isTTY === true ? terminalText(text) : text;
}

/**
 * `value` as JSON (pretty with `indent`) that a terminal shows as it is: JSON.stringify leaves DEL, the C1
 * controls and the bidi controls raw; here they are written `\u009b` and so on, which parses back to
 * exactly the same text.
 */
export function terminalJson(value: unknown, indent?: number): string {
  const json = JSON.stringify(value, null, indent) ?? "null";
  return json.replace(UNESCAPED_BY_JSON, (char) => `\\u${hex(char.charCodeAt(0), 4)}`);
}
