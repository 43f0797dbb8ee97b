import { CONTEXT_FIELDS } from "./fields.js";
import type { ContextPack } from "./pack.js";

/** The pack as a compact block for a worker prompt; empty fields are left out, and an empty pack is "". */
export function renderContextPack(pack: ContextPack): string {
  const lines: string[] = [];
  for (const field of CONTEXT_FIELDS) {
    const value = pack[field.name];
    if (typeof value === "string") {
      lines.push(value.includes("\n") ? `${field.heading}:\n${value}` : `${field.heading}: ${value}`);
    } else if (value && value.length > 0) {
      lines.push(`${field.heading}:`, ...value.map((item) => `- ${item}`));
    }
  }
  return lines.length > 0 ? ["CONTEXT PACK", ...lines].join("\n") : "";
}
