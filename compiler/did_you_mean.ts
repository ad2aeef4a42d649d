/**
 * "Did you mean" suggestions by edit distance.
 *
 * @module
 */

/** Damerau-free Levenshtein distance between two strings. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diagPrev = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diagPrev + cost);
      diagPrev = tmp;
    }
  }
  return prev[b.length]!;
}

/**
 * The closest candidate to `word` among those close enough to be a likely typo (an edit distance of at most a third
 * of the longer one's length, and at least 2).
 *
 * @example Usage
 * ```ts
 * import { closest } from "./did_you_mean.ts";
 * if (closest("upstram", ["upstream", "path"]) !== "upstream") throw new Error();
 * ```
 */
export function closest(
  word: string,
  candidates: Iterable<string>,
): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const limit = Math.max(2, Math.floor(Math.max(word.length, c.length) / 3));
    // The distance is at least the difference in length: a word far longer than every candidate (a value of
    // megabytes) costs nothing, where the distance would cost its length times each candidate's.
    if (Math.abs(word.length - c.length) > limit) continue;
    const d = editDistance(lower, c.toLowerCase());
    if (d <= limit && d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

/** A hint sentence for {@linkcode closest}, or undefined. */
export function didYouMean(
  word: string,
  candidates: Iterable<string>,
): string | undefined {
  const c = closest(word, candidates);
  return c === undefined ? undefined : `Did you mean "${c}"?`;
}
