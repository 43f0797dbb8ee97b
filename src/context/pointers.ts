import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { BatonError } from "../errors.js";
import type { ContextPack } from "./pack.js";

const URL = /^(?:[a-z][a-z0-9+.-]*:\/\/|mailto:|www\.)/i;
// Unmistakably a path even at the head of a sentence: `./x`, `../x`, `/x`, `~/x`, `dir/x`.
const CLEARLY_PATH = /\//;
// Where in a file, not part of its name: `:12`, `:12:3`, `:12-20`, `#anchor`, `#L12-L20`.
const LOCATION = /(?:#.*|:\d+(?:[-:]\d+)?)$/;

/**
 * The file or folder a pointer names, or `undefined` when it names none (a URL, or prose).
 * A one-word pointer is a path. In a pointer of several words only the first is looked at, and only
 * when it is in backticks or clearly a path (`src/x.ts — the parser`); anything else is prose.
 */
export function pointerPath(pointer: string): string | undefined {
  const text = pointer.trim();
  const quoted = /^`([^`]+)`/.exec(text)?.[1];
  const first = text.split(/\s+/)[0] ?? "";
  const candidate = quoted ?? (first === text ? first : first.replace(/[,;:)]+$/, ""));
  // `#123` is an issue or an anchor, not a file.
  if (!candidate || candidate.startsWith("#") || URL.test(candidate)) return undefined;
  if (quoted === undefined && first !== text && !CLEARLY_PATH.test(candidate)) return undefined;
  return candidate.replace(LOCATION, "") || undefined;
}

/** The first pointer naming a path that does not exist, with its index in `pack.pointers`. */
export function findMissingPointer(
  pack: ContextPack,
  cwd: string,
): { readonly index: number; readonly path: string } | undefined {
  for (const [index, pointer] of pack.pointers.entries()) {
    const path = pointerPath(pointer);
    if (path === undefined) continue;
    const absolute =
      path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : resolve(cwd, path);
    if (!existsSync(absolute)) return { index, path };
  }
  return undefined;
}

export const missingPointerMessage = (path: string, cwd: string): string =>
  `context pack pointer "${path}" does not exist (relative to ${resolve(cwd)}): fix the path or remove it`;

/** Throws a usage error for the first pointer that names a missing file or folder. */
export function checkPointers(pack: ContextPack, cwd: string): void {
  const missing = findMissingPointer(pack, cwd);
  if (missing) throw new BatonError("usage", missingPointerMessage(missing.path, cwd));
}
