import { extname } from "node:path";
import { CONTEXT_FIELDS } from "./fields.js";
import { parseMarkdownPack } from "./markdown.js";
import { type ContextPack, fieldWithNul, isEmptyContextPack } from "./pack.js";
import { type ParsedPack, usageAt } from "./parsed.js";
import { findMissingPointer, missingPointerMessage } from "./pointers.js";
import { readTextFile } from "./text-file.js";
import { parseYamlPack } from "./yaml.js";

const PARSERS: Record<string, (source: string, file: string) => ParsedPack> = {
  ".yaml": parseYamlPack,
  ".yml": parseYamlPack,
  ".md": parseMarkdownPack,
};

/**
 * Reads a context pack from YAML (`.yaml`, `.yml`) or Markdown (`.md`) and checks that the files and
 * folders it points to exist. `file` and pointers are relative to `cwd`; errors name `file` as given.
 */
export async function loadContextPack(file: string, cwd: string): Promise<ContextPack> {
  const parse = PARSERS[extname(file).toLowerCase()];
  if (!parse) throw usageAt(file, undefined, "a context pack must be a .yaml, .yml or .md file");
  const source = await readTextFile(file, cwd, "the context pack");
  const { pack, pointerLines } = parse(source, file);
  if (isEmptyContextPack(pack)) {
    const names = file.toLowerCase().endsWith(".md")
      ? CONTEXT_FIELDS.map((field) => `## ${field.heading}`)
      : CONTEXT_FIELDS.map((field) => field.key);
    throw usageAt(file, undefined, `the context pack is empty: fill in at least one of ${names.join(", ")}`);
  }
  const nul = fieldWithNul(pack);
  if (nul) throw usageAt(file, undefined, `"${nul}" contains a NUL byte: remove it`);
  const missing = findMissingPointer(pack, cwd);
  if (missing) throw usageAt(file, pointerLines[missing.index], missingPointerMessage(missing.path, cwd));
  return pack;
}
