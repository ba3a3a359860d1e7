/**
 * One shared timer for every socket deadline.
 *
 * Bun's per-socket `timeout()` fires on a 4-second grid (measured on Bun
 * 1.4.5: `timeout(1)` fired after 4.0 s), too coarse for a 1 s header
 * timeout. Instead each timed object holds a `deadline` (ms since epoch, 0 =
 * none) and sits in one Set; a single interval sweeps the set. Arming or
 * disarming a deadline is a field write, no timer per request.
 */

export interface Timed {
  /** Epoch ms at which `onDeadline` fires; 0 when disarmed. */
  deadline: number
  onDeadline(now: number): void
}

const TICK_MS = 250

export class Deadlines {
  #members = new Set<Timed>()
  #timer: ReturnType<typeof setInterval> | undefined

  add(item: Timed): void {
    this.#members.add(item)
    if (!this.#timer) {
      this.#timer = setInterval(() => this.sweep(Date.now()), TICK_MS)
      this.#timer.unref?.()
    }
  }

  delete(item: Timed): void {
    this.#members.delete(item)
    if (this.#members.size === 0 && this.#timer) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }

  /** Fire every deadline at or before `now`. Exposed for tests. */
  sweep(now: number): void {
    for (const item of this.#members) {
      if (item.deadline !== 0 && item.deadline <= now) {
        item.deadline = 0
        item.onDeadline(now)
      }
    }
  }

  get size(): number {
    return this.#members.size
  }
}

/** The process-wide instance used by the proxy. */
export const deadlines = new Deadlines()
