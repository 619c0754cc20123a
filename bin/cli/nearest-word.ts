// "did you mean --json?": the known word a mistyped one is closest to, if it is close at all.

/** Edits between two words: insertions, deletions, substitutions and swaps of neighbours (jsno → json is 1). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known word within a third of its length (at least 1, at most 3 edits) of `typed`, or the only one `typed` starts. */
export function nearestWord(typed: string, known: readonly string[]): string | undefined {
  const prefixed = known.filter((word) => typed.length >= 2 && word.startsWith(typed));
  if (prefixed.length === 1) return prefixed[0];
  let best: { word: string; distance: number } | undefined;
  for (const word of known) {
    const distance = editDistance(typed, word);
    const allowed = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
    if (distance <= allowed && (!best || distance < best.distance)) best = { word, distance };
  }
  return best?.word;
}
