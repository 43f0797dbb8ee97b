// Reviewers looking through different lenses word one issue differently ("Race on PID file write" and
// "PID file write race"). Titles are compared as sets of meaningful words, so order and filler don't count.

// Negations ("not", "no", "never") are kept on purpose: they change what a title claims.
const STOP_WORDS = new Set(
  (
    "a an the of in on at to for from by with as into onto over under about " +
    "and or but so than then is are was were be been being it its this that these those there " +
    "can could may might should would will when while which who what where how via per"
  ).split(" "),
);

/** The meaningful words of a title: lowercased, punctuation gone, stop words dropped. */
export function titleWords(title: string): ReadonlySet<string> {
  const words = title
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== "" && !STOP_WORDS.has(word));
  return new Set(words);
}

/** Jaccard similarity needed to call two titles the same issue. */
const SIMILAR = 0.6;
/** A title contained in another counts only when it says enough on its own. */
const CONTAINED_MIN_WORDS = 3;

/** Whether two titles' word sets say the same thing: Jaccard ≥ 0.6, or one holds all of a ≥ 3-word other. */
export function similarTitles(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size === 0 || b.size === 0) return false;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const word of small) if (large.has(word)) shared++;
  const union = a.size + b.size - shared;
  return shared / union >= SIMILAR || (shared === small.size && small.size >= CONTAINED_MIN_WORDS);
}
