import type { Source } from "./finding.js";

/**
 * An APA 7 reference: `Authors. (Year). Title. URL`. With no year it says `(n.d.)`; with no authors the
 * title takes the author's place (`Title. (Year). URL`), as APA asks for works without a named author.
 */
export function formatApa7(source: Source): string {
  const title = source.title.trim() || "[Untitled]";
  const authors = source.authors?.trim();
  const date = `(${source.year?.trim() || "n.d."}).`;
  const url = source.url?.trim();
  const parts = authors ? [sentence(authors), date, sentence(title)] : [sentence(title), date];
  if (url) parts.push(url);
  return parts.join(" ");
}

/** Ends a part with a period unless it already ends a sentence ("Lamport, L." or "Why?"). */
const sentence = (text: string): string => (/[.?!]$/.test(text) ? text : `${text}.`);
