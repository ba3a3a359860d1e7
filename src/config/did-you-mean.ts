/**
 * "Did you mean" for unknown keys: the closest known word by edit distance, when it is close
 * enough to be a plausible typo (at most 2 edits, or a third of the word for long keys).
 */

/** Returns the known word closest to `word`, or undefined when none is a plausible typo. */
export function suggestClosest(word: string, known: readonly string[]): string | undefined {
  const lower = word.toLowerCase()
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(lower.length / 3)) + 1
  for (const candidate of known) {
    const distance = measureEditDistance(lower, candidate, bestDistance)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/**
 * Levenshtein distance between `a` and `b` (insert, delete, substitute; a swap of two
 * neighbours also counts as one edit). Stops early and returns `limit` once every path is
 * at least that long, so an absurdly long key costs no more than a short one.
 */
export function measureEditDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) >= limit) {
    return limit
  }
  let prevPrev: number[] = []
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let value = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, prevPrev[j - 2] + 1)
      }
      row.push(value)
      rowMin = Math.min(rowMin, value)
    }
    if (rowMin >= limit) {
      return limit
    }
    prevPrev = prev
    prev = row
  }
  return Math.min(prev[b.length], limit)
}
