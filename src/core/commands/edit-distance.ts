/** How far a typed word is from a command word, for "Did you mean ...?" and near-miss lines. */

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours cost 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * A typo, not another word: one edit, or two for command words of eight letters or more
 * (`knowlege`). Short words stay strict so `hello` is not `help` and `of` is not `use`.
 */
export function isTypoOf(typed: string, word: string): boolean {
  const d = editDistance(typed, word);
  return d > 0 && d <= (word.length >= 8 ? 2 : 1);
}
