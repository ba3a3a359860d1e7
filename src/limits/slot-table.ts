/**
 * Fixed-size numeric records in one Float64Array, so a counter costs a few
 * doubles and no JS object. A record is `stride` doubles wide:
 *
 *   data: | slot 0 ........ | slot 1 ........ | slot 2 ........ | ...
 *         | f0 f1 .. f(s-1) | f0 f1 .. f(s-1) | f0 f1 .. f(s-1) |
 *           ▲ field i of slot n is data[n * stride + i]
 *
 * Released slots form a free list threaded through their field 0
 * (-1 ends it), so reuse needs no side array. The array doubles when full;
 * `compact` (driven by the owner, which knows where slot numbers are kept)
 * gives memory back after a cleanup left most slots free.
 */
export class SlotTable {
  readonly stride: number
  /** The records. Replaced when the table grows: read it again after `allocate`. */
  data: Float64Array
  #capacity: number
  #highWater = 0
  #freeHead = -1
  #live = 0

  constructor(stride: number, initialCapacity = 64) {
    this.stride = stride
    this.#capacity = Math.max(1, initialCapacity)
    this.data = new Float64Array(this.#capacity * stride)
  }

  /** Slots in use. */
  get live(): number {
    return this.#live
  }

  /** Slots the array has room for. */
  get capacity(): number {
    return this.#capacity
  }

  /** A zeroed slot: a released one if any, else a new one (growing the array by doubling). */
  allocate(): number {
    let slot = this.#freeHead
    if (slot >= 0) {
      this.#freeHead = this.data[slot * this.stride]
    } else {
      if (this.#highWater === this.#capacity) {
        this.#grow(this.#capacity * 2)
      }
      slot = this.#highWater++
    }
    this.data.fill(0, slot * this.stride, (slot + 1) * this.stride)
    this.#live++
    return slot
  }

  /** Give a slot back; the caller must drop every reference to its number. */
  release(slot: number): void {
    this.data[slot * this.stride] = this.#freeHead
    this.#freeHead = slot
    this.#live--
  }

  /** True when at most a quarter of a grown table is in use. */
  isSparse(minCapacity: number): boolean {
    return this.#capacity > minCapacity && this.#live * 4 <= this.#capacity
  }

  /**
   * Move every live slot into a new, smaller table. `forEachLive` must call
   * `move(oldSlot)` once per live slot and store the number it returns.
   */
  compact(forEachLive: (move: (slot: number) => number) => void): void {
    const old = this.data
    const capacity = Math.max(64, nextPowerOfTwo(this.#live * 2))
    this.data = new Float64Array(capacity * this.stride)
    this.#capacity = capacity
    this.#highWater = 0
    this.#freeHead = -1
    this.#live = 0
    forEachLive((slot) => {
      const moved = this.allocate()
      this.data.set(old.subarray(slot * this.stride, (slot + 1) * this.stride), moved * this.stride)
      return moved
    })
  }

  #grow(capacity: number): void {
    const next = new Float64Array(capacity * this.stride)
    next.set(this.data)
    this.data = next
    this.#capacity = capacity
  }
}

function nextPowerOfTwo(n: number): number {
  let p = 1
  while (p < n) {
    p *= 2
  }
  return p
}
