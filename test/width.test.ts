import assert from "node:assert/strict";
import { test } from "node:test";
import { terminalText } from "../dist/render/terminal-text.js";
import { clipColumns, displayWidth } from "../dist/render/width.js";
import { table } from "../dist/render/workers.js";

// `baton ls` pads its columns by what a terminal shows, not by UTF-16 code units: labels are the
// user's and the orchestrating agent's, in any script, and may hold what a terminal is shown escaped.

test("a character takes the columns a terminal gives it", () => {
  const cases: [string, number][] = [
    ["abc", 3],
    ["漢字", 4], // wide
    ["ｗｉｄｅ", 8], // fullwidth
    ["e\u0301", 1], // a combining accent
    ["👨\u200d👩\u200d👧", 2], // one emoji of three, joined
    ["❤\ufe0f", 2], // shown as an emoji
    ["a\u200bb", 2], // a zero-width space
    ["a\u202eb", 8], // a bidi override, shown as \u202e
    ["x\x1by", 6], // ESC, shown as \x1b
  ];
  for (const [text, columns] of cases) assert.equal(displayWidth(text), columns, JSON.stringify(text));
});

test("a label is cut to its columns, never in the middle of a character, and ends in …", () => {
  assert.equal(clipColumns("short", 8), "short");
  assert.equal(clipColumns("abcdefghij", 8), "abcdefg…");
  // A wide character that would pass the limit is left out whole.
  assert.equal(clipColumns("漢字漢字漢字", 6), "漢字…");
  assert.equal(displayWidth(clipColumns("漢字漢字漢字", 6)), 5);
  assert.equal(clipColumns("e\u0301e\u0301e\u0301e\u0301", 3), "e\u0301e\u0301…");
});

test("table columns line up on a terminal whatever the labels hold", () => {
  const rows = [
    ["w1", "plain", "running"],
    ["w2", "漢字のラベル", "running"],
    ["w3", "bidi\u202eevil", "running"],
  ];
  const shown = terminalText(table(["ID", "LABEL", "STATE"], rows))
    .split("\n")
    .slice(1);
  const at = shown.map((line) => displayWidth(line.slice(0, line.lastIndexOf("running"))));
  assert.equal(new Set(at).size, 1, shown.join("\n"));
});
