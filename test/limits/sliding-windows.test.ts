import { describe, expect, test } from 'bun:test'
import { SlidingWindows } from '../../src/limits/sliding-windows.ts'

const MINUTE = 60_000
/** A minute (and hour) boundary: fixed windows are aligned to the epoch. */
const T0 = Date.parse('2026-06-10T12:00:00.000Z')

/** `n` requests counted for (rule, key) at time `at` under a one-minute window. */
function addAt(windows: SlidingWindows, key: string, at: number, n: number, rule = 'r'): number {
  const slot = windows.slotFor(rule, false, key, MINUTE, at)
  for (let i = 0; i < n; i++) {
    windows.add(slot)
  }
  return slot
}

function countAt(windows: SlidingWindows, key: string, at: number, windowMs = MINUTE): number {
  return windows.count(windows.slotFor('r', false, key, windowMs, at), at)
}

describe('the sliding count, with 10 requests in the previous minute and 2 in this one', () => {
  test.each([
    [0, 12],
    [15_000, 9.5],
    [30_000, 7],
    [45_000, 4.5],
    [59_999, 2 + 10 / MINUTE],
  ])('should be current + previous × (1 − elapsed/window) at +%pms', (elapsed, expected) => {
    const windows = new SlidingWindows()
    addAt(windows, 'k', T0 - 30_000, 10)
    addAt(windows, 'k', T0, 2)
    expect(countAt(windows, 'k', T0 + elapsed)).toBeCloseTo(expected, 9)
  })
})

describe('window rotation', () => {
  test('should make the current count the previous one at the next boundary', () => {
    const windows = new SlidingWindows()
    addAt(windows, 'k', T0 + 10, 4)
    addAt(windows, 'k', T0 + MINUTE + 30_000, 2)
    expect(countAt(windows, 'k', T0 + MINUTE + 30_000)).toBe(2 + 4 * 0.5)
    expect(countAt(windows, 'k', T0 + 2 * MINUTE)).toBe(2)
    expect(countAt(windows, 'k', T0 + 2 * MINUTE + 45_000)).toBe(0.5)
  })

  test('should forget both windows after two idle windows', () => {
    const windows = new SlidingWindows()
    addAt(windows, 'k', T0 + 59_000, 7)
    expect(countAt(windows, 'k', T0 + 2 * MINUTE - 1)).toBeGreaterThan(0)
    expect(countAt(windows, 'k', T0 + 2 * MINUTE)).toBe(0)
    expect(countAt(windows, 'k', T0 + 2 * MINUTE + 1)).toBe(0)
  })

  test('should keep the counts when a reload makes the window longer', () => {
    const windows = new SlidingWindows()
    addAt(windows, 'k', T0 + 37_000, 5)
    expect(countAt(windows, 'k', T0 + 40_000, 3_600_000)).toBe(5)
  })

  test('should scope counters per rule and keep the IP baseline apart from keys', () => {
    const windows = new SlidingWindows()
    addAt(windows, '10.0.0.1', T0, 3, 'a')
    const ipSlot = windows.slotFor('a', true, '10.0.0.1', MINUTE, T0)
    expect(windows.count(ipSlot, T0)).toBe(0)
    expect(windows.count(windows.slotFor('b', false, '10.0.0.1', MINUTE, T0), T0)).toBe(0)
    expect(windows.count(windows.slotFor('a', false, '10.0.0.1', MINUTE, T0), T0)).toBe(3)
    expect([windows.sizeOf('a'), windows.sizeOf('b'), windows.size]).toEqual([2, 1, 3])
  })
})

describe('reset and retry times', () => {
  test('the reset should be the end of the current fixed window', () => {
    const windows = new SlidingWindows()
    const slot = addAt(windows, 'k', T0 + 20_000, 1)
    expect(windows.resetMs(slot, T0 + 20_000)).toBe(40_000)
  })

  test.each([
    // previous, current, limit, now offset, expected ms until the count is below the limit
    [10, 0, 10, 0, 1],
    [10, 5, 10, 0, 30_001],
    [20, 5, 10, 15_000, 30_001],
    [0, 10, 10, 15_000, 45_001],
    [0, 20, 10, 0, 90_001],
  ])(
    'with previous %p, current %p and limit %p at +%pms it should be %pms',
    (previous, current, limit, offset, expected) => {
      const windows = new SlidingWindows()
      addAt(windows, 'k', T0 - MINUTE, previous)
      const slot = addAt(windows, 'k', T0, current)
      const now = T0 + offset
      expect(windows.count(slot, now)).toBeGreaterThanOrEqual(limit)
      const retry = windows.retryMs(slot, limit, now)
      expect(retry).toBe(expected)
      expect(countAt(windows, 'k', now + retry)).toBeLessThan(limit)
      expect(countAt(windows, 'k', now + retry - 1)).toBeGreaterThanOrEqual(limit)
    },
  )
})

describe('cleanup', () => {
  test('should drop only counters idle for two of their windows, and reuse their slots', () => {
    const windows = new SlidingWindows()
    addAt(windows, 'old', T0, 1)
    addAt(windows, 'recent', T0 + MINUTE, 1)
    windows.slotFor('hourly', false, 'k', 3_600_000, T0)
    expect(windows.cleanup(T0 + 2 * MINUTE - 1)).toBe(0)
    expect(windows.cleanup(T0 + 2 * MINUTE)).toBe(1)
    expect([windows.size, windows.sizeOf('r')]).toEqual([2, 1])
    const arrayBytes = windows.arrayBytes
    addAt(windows, 'new', T0 + 2 * MINUTE, 1)
    expect(windows.arrayBytes).toBe(arrayBytes)
    expect(countAt(windows, 'new', T0 + 2 * MINUTE)).toBe(1)
  })

  test('should give memory back after most keys went idle', () => {
    const windows = new SlidingWindows()
    for (let i = 0; i < 5000; i++) {
      addAt(windows, `k${i}`, T0, 1)
    }
    const peakBytes = windows.arrayBytes
    addAt(windows, 'k42', T0 + 3 * MINUTE, 2)
    expect(windows.cleanup(T0 + 3 * MINUTE)).toBe(4999)
    expect(windows.arrayBytes).toBeLessThan(peakBytes / 10)
    expect(countAt(windows, 'k42', T0 + 3 * MINUTE)).toBe(2)
  })
})
