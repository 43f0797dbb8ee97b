import { CONTEXT_FIELDS, type ContextField, type FieldValues, packFromValues } from "./fields.js";
import { type ParsedPack, usageAt } from "./parsed.js";
import { closest } from "./suggest.js";

const HEADING = /^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const BULLET = /^\s*(?:[-*+]|\d+[.)])\s+(.*)$/;
const FENCE = /^\s*(?:```|~~~)/;

/** A bullet item or a paragraph, with the line it starts on. */
interface Block {
  readonly bullet: boolean;
  readonly line: number;
  text: string;
}

interface Section {
  readonly field: ContextField;
  readonly line: number;
  readonly blocks: Block[];
}

// "Non-goals", "non goals", "Non_Goals:" all name the same section.
const normalize = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/:$/, "")
    .replace(/[\s_-]+/g, " ")
    .trim();
const HEADINGS = new Map(CONTEXT_FIELDS.map((field) => [normalize(field.heading), field]));

/**
 * Reads a Markdown context pack: one `## Goal`, `## Non-goals`, ... section per field, holding paragraphs
 * or `- ` bullets. A `#` title and any text before the first section are ignored, as an introduction.
 */
export function parseMarkdownPack(source: string, file: string): ParsedPack {
  const sections: Section[] = [];
  let section: Section | undefined;
  let block: Block | undefined;
  let inFence = false;

  source.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const heading = inFence ? null : HEADING.exec(raw);
    if (FENCE.test(raw)) inFence = !inFence;
    if (heading) {
      const level = heading[1]?.length ?? 0;
      const field = HEADINGS.get(normalize(heading[2] ?? ""));
      if (field) {
        const earlier = sections.find((s) => s.field === field);
        if (earlier) {
          throw usageAt(
            file,
            line,
            `"## ${field.heading}" appears twice (first at line ${earlier.line}): merge them`,
          );
        }
        section = { field, line, blocks: [] };
        sections.push(section);
        block = undefined;
        return;
      }
      if (level === 1) {
        section = undefined;
        return;
      }
      if (level === 2) {
        const guess = closest(normalize(heading[2] ?? ""), [...HEADINGS.keys()]);
        const hint = guess
          ? `did you mean "## ${HEADINGS.get(guess)?.heading}"?`
          : `expected one of ${CONTEXT_FIELDS.map((f) => `"## ${f.heading}"`).join(", ")}`;
        throw usageAt(file, line, `unknown section "${raw.trim()}": ${hint}`);
      }
      // A deeper heading inside a section is read as a line of text.
    }
    if (!section) return;
    const text = heading ? (heading[2] ?? "") : raw.trim();
    if (text === "") {
      block = undefined;
      return;
    }
    const bullet = inFence ? null : BULLET.exec(raw);
    if (bullet) {
      block = { bullet: true, line, text: (bullet[1] ?? "").trim() };
      section.blocks.push(block);
    } else if (block) {
      block.text = `${block.text} ${text}`;
    } else {
      block = { bullet: false, line, text };
      section.blocks.push(block);
    }
  });

  const values: Record<string, string | string[]> = {};
  for (const { field, blocks } of sections) {
    values[field.name] =
      field.kind === "list"
        ? blocks.map((b) => b.text)
        : blocks.map((b) => (b.bullet && blocks.length > 1 ? `- ${b.text}` : b.text)).join("\n");
  }
  // Same order and filtering as packFromValues, so each kept pointer keeps its line.
  const pointers = (sections.find((s) => s.field.name === "pointers")?.blocks ?? []).filter((b) =>
    b.text.trim(),
  );
  return { pack: packFromValues(values as FieldValues), pointerLines: pointers.map((b) => b.line) };
}
