import type { ResetSchedule } from './reset-schedule.ts'
import { SlotTable } from './slot-table.ts'

/**
 * Credit balances, one slot per (rule, key), four doubles:
 *
 *   | USED | START of its period (ms) | END of its period (ms) | LAST access (ms) |
 *
 * A budget is fresh when a reset time of the rule's current schedule passed
 * since its period started (`START < schedule.periodStart(now)`), so the first
 * request after the reset starts over, whatever happened while it was idle.
 *
 * Changes are tracked for write-behind: a dirty flag per slot plus a list of
 * dirty slot numbers, and the keys dropped by cleanup, written out by `flush`.
 */

const USED = 0
const START = 1
const END = 2
const LAST = 3
const STRIDE = 4
const MIN_CAPACITY = 64
/** SPEC §6: a credit entry is dropped when its period ended and it was idle this long. */
export const CREDIT_IDLE_MS = 48 * 3600 * 1000

/** One balance as it is stored. */
export interface CreditRecord {
  rule: string
  key: string
  used: number
  periodStart: number
  periodEnd: number
  lastAccess: number
}

/** The identity of a balance, for deletes. */
export interface CreditKey {
  rule: string
  key: string
}

/** Where `flush` writes changes: deletes first, then upserts. */
export interface CreditSink {
  save(upserts: CreditRecord[], deletes: CreditKey[]): void
}

/** All credit balances of one process; see the layout above. */
export class CreditLedger {
  #table = new SlotTable(STRIDE, MIN_CAPACITY)
  #rules = new Map<string, Map<string, number>>()
  #ruleOf: string[] = []
  #keyOf: string[] = []
  #dirty = new Uint8Array(MIN_CAPACITY)
  #dirtyList = new Int32Array(MIN_CAPACITY)
  #dirtyCount = 0
  #deleted: CreditKey[] = []

  /** Balances alive. */
  get size(): number {
    return this.#table.live
  }

  /** Changes waiting for `flush`. */
  get pendingChanges(): number {
    return this.#dirtyCount + this.#deleted.length
  }

  /** The slot of (rule, key), created if new, its budget renewed if a reset time passed. */
  slotFor(rule: string, key: string, schedule: ResetSchedule, now: number): number {
    const slot = this.#locate(rule, key)
    const d = this.#table.data
    const base = slot * STRIDE
    const start = schedule.periodStart(now)
    if (d[base + START] < start) {
      d[base + USED] = 0
      d[base + START] = start
      this.#markDirty(slot)
    }
    d[base + END] = schedule.periodEnd(now)
    d[base + LAST] = now
    return slot
  }

  /** Credits used in the slot's period. */
  used(slot: number): number {
    return this.#table.data[slot * STRIDE + USED]
  }

  /** When the slot's period ends (its next reset), ms since the epoch. */
  periodEnd(slot: number): number {
    return this.#table.data[slot * STRIDE + END]
  }

  /** Spend one credit. */
  add(slot: number): void {
    this.#table.data[slot * STRIDE + USED] += 1
    this.#markDirty(slot)
  }

  /** Put back a balance read from the store at start-up (not marked dirty). */
  restore(record: CreditRecord): void {
    const slot = this.#locate(record.rule, record.key)
    const d = this.#table.data
    const base = slot * STRIDE
    d[base + USED] = record.used
    d[base + START] = record.periodStart
    d[base + END] = record.periodEnd
    d[base + LAST] = record.lastAccess
  }

  /** The stored view of (rule, key), or undefined; for tests and `roxy explain`. */
  read(rule: string, key: string): CreditRecord | undefined {
    const slot = this.#rules.get(rule)?.get(key)
    return slot === undefined ? undefined : this.#record(slot)
  }

  /** Drop balances whose period ended and that were idle for 48 h. */
  cleanup(now: number): number {
    const d = this.#table.data
    let dropped = 0
    for (const [rule, index] of this.#rules) {
      for (const [key, slot] of index) {
        const base = slot * STRIDE
        if (now >= d[base + END] && now - d[base + LAST] >= CREDIT_IDLE_MS) {
          index.delete(key)
          this.#release(slot)
          this.#deleted.push({ rule, key })
          dropped++
        }
      }
      if (index.size === 0) {
        this.#rules.delete(rule)
      }
    }
    if (this.#table.isSparse(MIN_CAPACITY)) {
      this.#compact()
    }
    return dropped
  }

  /** Write dirty balances and deletions to `sink`; on a throw nothing is forgotten. */
  flush(sink: CreditSink): number {
    if (this.pendingChanges === 0) {
      return 0
    }
    const upserts = this.#collectDirty()
    try {
      sink.save(upserts, this.#deleted)
    } catch (err) {
      this.#settleDirty(1)
      throw err
    }
    this.#settleDirty(0)
    this.#dirtyCount = 0
    const written = upserts.length + this.#deleted.length
    this.#deleted = []
    return written
  }

  /** Records of the dirty slots, each once (the list may name a slot twice), marked 2. */
  #collectDirty(): CreditRecord[] {
    const upserts: CreditRecord[] = []
    for (let i = 0; i < this.#dirtyCount; i++) {
      const slot = this.#dirtyList[i]
      if (this.#dirty[slot] === 1) {
        upserts.push(this.#record(slot))
        this.#dirty[slot] = 2
      }
    }
    return upserts
  }

  /** Turn the slots marked 2 by `#collectDirty` into `flag`: 0 written, 1 still dirty. */
  #settleDirty(flag: number): void {
    for (let i = 0; i < this.#dirtyCount; i++) {
      const slot = this.#dirtyList[i]
      if (this.#dirty[slot] === 2) {
        this.#dirty[slot] = flag
      }
    }
  }

  #locate(rule: string, key: string): number {
    let index = this.#rules.get(rule)
    if (!index) {
      index = new Map()
      this.#rules.set(rule, index)
    }
    let slot = index.get(key)
    if (slot === undefined) {
      slot = this.#table.allocate()
      index.set(key, slot)
      this.#ruleOf[slot] = rule
      this.#keyOf[slot] = key
    }
    return slot
  }

  #record(slot: number): CreditRecord {
    const d = this.#table.data
    const base = slot * STRIDE
    return {
      rule: this.#ruleOf[slot],
      key: this.#keyOf[slot],
      used: d[base + USED],
      periodStart: d[base + START],
      periodEnd: d[base + END],
      lastAccess: d[base + LAST],
    }
  }

  #markDirty(slot: number): void {
    if (this.#dirty.length <= slot) {
      this.#dirty = growBytes(this.#dirty, this.#table.capacity)
    }
    if (this.#dirty[slot]) {
      return
    }
    this.#dirty[slot] = 1
    if (this.#dirtyCount === this.#dirtyList.length) {
      this.#dirtyList = growInts(this.#dirtyList, this.#dirtyList.length * 2)
    }
    this.#dirtyList[this.#dirtyCount++] = slot
  }

  #release(slot: number): void {
    // A stale number may stay in the dirty list; its cleared flag makes flush skip it.
    if (slot < this.#dirty.length) {
      this.#dirty[slot] = 0
    }
    this.#ruleOf[slot] = ''
    this.#keyOf[slot] = ''
    this.#table.release(slot)
  }

  /** Move live slots into a smaller table; side arrays and dirty marks follow them. */
  #compact(): void {
    const oldDirty = this.#dirty
    const oldRules = this.#ruleOf
    const oldKeys = this.#keyOf
    this.#dirty = new Uint8Array(MIN_CAPACITY)
    this.#dirtyList = new Int32Array(MIN_CAPACITY)
    this.#dirtyCount = 0
    this.#ruleOf = []
    this.#keyOf = []
    this.#table.compact((move) => {
      for (const index of this.#rules.values()) {
        for (const [key, slot] of index) {
          const moved = move(slot)
          index.set(key, moved)
          this.#ruleOf[moved] = oldRules[slot]
          this.#keyOf[moved] = oldKeys[slot]
          if (slot < oldDirty.length && oldDirty[slot]) {
            this.#markDirty(moved)
          }
        }
      }
    })
  }
}

function growBytes(bytes: Uint8Array<ArrayBuffer>, capacity: number): Uint8Array<ArrayBuffer> {
  const next = new Uint8Array(Math.max(capacity, bytes.length * 2))
  next.set(bytes)
  return next
}

function growInts(ints: Int32Array<ArrayBuffer>, capacity: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(capacity)
  next.set(ints)
  return next
}
