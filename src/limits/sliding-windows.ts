import { SlotTable } from './slot-table.ts'

/**
 * Rate-limit counters: a sliding window approximated from two fixed windows.
 *
 *        previous window          current window
 *   |────────────────────────|──────────┬─────────────|
 *   start − W                start      now           start + W
 *                                 ◄────►
 *                                 elapsed
 *
 *   count = current + previous × (1 − elapsed / W)
 *
 * Fixed windows are aligned to the epoch (a minute window starts at :00), so
 * every key of a rule rotates at the same instant and the reset time is the
 * same for all of them. One slot per (rule, key), five doubles:
 *
 *   | CUR | PREV | START (ms) | LAST access (ms) | WINDOW length (ms) |
 *
 * The slot is found through a per-rule index, one map for keys and one for the
 * per-IP baseline, so a header value equal to an IP never shares a counter
 * with that IP, and two rules never share one.
 */

const CUR = 0
const PREV = 1
const START = 2
const LAST = 3
const WINDOW = 4
const STRIDE = 5
const MIN_CAPACITY = 64

interface RuleWindows {
  keys: Map<string, number>
  ips: Map<string, number>
}

/** All rate-limit counters of one process; see the diagram above. */
export class SlidingWindows {
  #table = new SlotTable(STRIDE, MIN_CAPACITY)
  #rules = new Map<string, RuleWindows>()

  /** Counters alive. */
  get size(): number {
    return this.#table.live
  }

  /**
   * The slot counting `key` under `rule` (the IP baseline when `isIp`),
   * created if new, rotated to `now` with the rule's current window length.
   */
  slotFor(rule: string, isIp: boolean, key: string, windowMs: number, now: number): number {
    let windows = this.#rules.get(rule)
    if (!windows) {
      windows = { keys: new Map(), ips: new Map() }
      this.#rules.set(rule, windows)
    }
    const index = isIp ? windows.ips : windows.keys
    let slot = index.get(key)
    if (slot === undefined) {
      slot = this.#table.allocate()
      index.set(key, slot)
    }
    this.#rotate(slot, windowMs, now)
    return slot
  }

  /** The weighted count of a slot rotated to `now`. */
  count(slot: number, now: number): number {
    const d = this.#table.data
    const base = slot * STRIDE
    const window = d[base + WINDOW]
    return d[base + CUR] + d[base + PREV] * (1 - (now - d[base + START]) / window)
  }

  /** Count one request in the current window. */
  add(slot: number): void {
    this.#table.data[slot * STRIDE + CUR] += 1
  }

  /** Milliseconds until the current fixed window ends. */
  resetMs(slot: number, now: number): number {
    const d = this.#table.data
    const base = slot * STRIDE
    return d[base + START] + d[base + WINDOW] - now
  }

  /**
   * Milliseconds until the count drops below `limit`, so that a request is
   * allowed again (at least 1). Solves the count formula for `elapsed`:
   * while the current window alone is under the limit, waiting for the
   * previous one to decay is enough; otherwise the current window must first
   * become the previous one and decay in turn.
   */
  retryMs(slot: number, limit: number, now: number): number {
    const d = this.#table.data
    const base = slot * STRIDE
    const cur = d[base + CUR]
    const prev = d[base + PREV]
    const start = d[base + START]
    const window = d[base + WINDOW]
    if (limit <= 0) {
      return window
    }
    let at: number
    if (cur < limit) {
      at = prev > 0 ? start + window * (1 - (limit - cur) / prev) : now
    } else {
      at = start + window + window * (1 - limit / cur)
    }
    return Math.max(1, Math.floor(at - now) + 1)
  }

  /** Drop counters idle for two of their windows (their count is 0 by then). */
  cleanup(now: number): number {
    let dropped = 0
    for (const [rule, windows] of this.#rules) {
      dropped += this.#dropIdle(windows.keys, now) + this.#dropIdle(windows.ips, now)
      if (windows.keys.size === 0 && windows.ips.size === 0) {
        this.#rules.delete(rule)
      }
    }
    if (this.#table.isSparse(MIN_CAPACITY)) {
      this.#table.compact((move) => this.#forEachIndex((index) => remapAll(index, move)))
    }
    return dropped
  }

  /** Counters alive for one rule (keys and IP baselines), for metrics and tests. */
  sizeOf(rule: string): number {
    const windows = this.#rules.get(rule)
    return windows ? windows.keys.size + windows.ips.size : 0
  }

  /** Memory held by the slot array, in bytes. */
  get arrayBytes(): number {
    return this.#table.data.byteLength
  }

  #rotate(slot: number, windowMs: number, now: number): void {
    const d = this.#table.data
    const base = slot * STRIDE
    const start = Math.floor(now / windowMs) * windowMs
    const stored = d[base + START]
    if (start > stored) {
      // The next window: the current count becomes the previous one. Later: both lapsed.
      d[base + PREV] = stored >= start - windowMs ? d[base + CUR] : 0
      d[base + CUR] = 0
      d[base + START] = start
    } else if (start < stored) {
      // The window grew on reload (or the clock stepped back): keep the counts.
      d[base + START] = start
    }
    d[base + WINDOW] = windowMs
    d[base + LAST] = now
  }

  #dropIdle(index: Map<string, number>, now: number): number {
    const d = this.#table.data
    let dropped = 0
    for (const [key, slot] of index) {
      const base = slot * STRIDE
      if (now - d[base + LAST] >= 2 * d[base + WINDOW]) {
        index.delete(key)
        this.#table.release(slot)
        dropped++
      }
    }
    return dropped
  }

  #forEachIndex(visit: (index: Map<string, number>) => void): void {
    for (const windows of this.#rules.values()) {
      visit(windows.keys)
      visit(windows.ips)
    }
  }
}

function remapAll(index: Map<string, number>, move: (slot: number) => number): void {
  for (const [key, slot] of index) {
    index.set(key, move(slot))
  }
}
