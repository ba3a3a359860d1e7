/**
 * Header values are small integers that repeat (limits, remaining counts,
 * seconds to reset). A direct-mapped cache of their decimal strings lets the
 * hot path add headers without making a new string per request:
 *
 *   slot = n mod SIZE      values[slot] === n ? strings[slot] : String(n), stored
 *
 * Values below SIZE never evict each other; larger ones may, and then cost one
 * string. Bounded: at most SIZE short strings.
 */

const SIZE = 2048
const values = new Float64Array(SIZE).fill(-1)
const strings: string[] = new Array<string>(SIZE).fill('')

/** The decimal text of a number; non-negative integers come from the cache when there. */
export function formatDecimal(n: number): string {
  if (!Number.isInteger(n) || n < 0) {
    return String(n)
  }
  const slot = n % SIZE
  if (values[slot] === n) {
    return strings[slot]
  }
  const text = String(n)
  values[slot] = n
  strings[slot] = text
  return text
}
