/** xorshift32: reproducible randomness for the property and fuzz tests. */
export function makeRandom(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1
  return (n) => {
    state ^= state << 13
    state >>>= 0
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state % n
  }
}

export function pick<T>(random: (n: number) => number, items: readonly T[]): T {
  return items[random(items.length)]
}
