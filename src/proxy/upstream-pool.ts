/**
 * Idle upstream connections kept for reuse, per (scheme, host, port).
 *
 * Bounded two ways: at most `maxIdlePerHost` idle connections per key, and
 * each is closed after `idleTimeoutMs` unused. The per-key cap is enforced by
 * the shared 250 ms sweep, not at release: under load, responses for many
 * clients arrive in one event-loop turn, so dozens of connections are idle
 * for a few microseconds before the next requests take them back. Closing
 * the excess on release would re-dial them at once (measured: with 32
 * clients and a cap of 10, two thirds of requests paid a new connection).
 * A burst may thus keep more than the cap for at most one sweep.
 * Only a connection whose last exchange ended cleanly — request fully sent,
 * response fully read, no `Connection: close` — is ever offered back
 * (SPEC §3). The most recently used connection is handed out first: it is
 * the least likely to have been closed by the origin.
 */
import type { Timed } from '../util/deadlines.ts'
import { deadlines } from '../util/deadlines.ts'
import type { Upstream } from './upstream.ts'

export interface PoolOptions {
  maxIdlePerHost: number
  idleTimeoutMs: number
}

export class UpstreamPool implements Timed {
  #idle = new Map<string, Upstream[]>()
  #count = 0
  #options: PoolOptions
  deadline = 0

  constructor(options: PoolOptions) {
    this.#options = options
  }

  get idleCount(): number {
    return this.#count
  }

  /** Some connection for `key` rests in the pool (open, or still connecting). */
  has(key: string): boolean {
    return this.#idle.has(key)
  }

  /** Take the freshest idle connection for `key`, if any. */
  take(key: string): Upstream | undefined {
    const list = this.#idle.get(key)
    const up = list?.pop()
    if (!up) {
      return undefined
    }
    if (list!.length === 0) {
      this.#idle.delete(key)
    }
    this.#count--
    up.onIdleClose = undefined
    return up
  }

  /** Offer a cleanly finished connection back; closes it when the pool is full or off. */
  release(up: Upstream, now: number): void {
    if (up.isClosed || this.#options.maxIdlePerHost <= 0) {
      up.destroy()
      return
    }
    let list = this.#idle.get(up.key)
    if (!list) {
      list = []
      this.#idle.set(up.key, list)
    }
    up.listener = undefined
    up.idleSince = now
    up.onIdleClose = (dead) => this.#remove(dead)
    list.push(up)
    this.#count++
    this.#arm(now)
  }

  /** Close idle connections unused for `idleTimeoutMs` (called by the shared deadline sweep). */
  onDeadline(now: number): void {
    const limit = now - this.#options.idleTimeoutMs
    const cap = this.#options.maxIdlePerHost
    for (const [key, list] of this.#idle) {
      // Oldest first: the list is ordered by release time.
      while (list.length > 0 && (list[0].idleSince <= limit || list.length > cap)) {
        list.shift()!.destroy()
        this.#count--
      }
      if (list.length === 0) {
        this.#idle.delete(key)
      }
    }
    if (this.#count > 0) {
      this.#arm(now)
    } else {
      deadlines.delete(this)
    }
  }

  /** Close everything (shutdown). */
  closeAll(): void {
    for (const list of this.#idle.values()) {
      for (const up of list) {
        up.destroy()
      }
    }
    this.#idle.clear()
    this.#count = 0
    deadlines.delete(this)
  }

  #arm(now: number): void {
    if (this.deadline === 0) {
      this.deadline = now + Math.min(250, this.#options.idleTimeoutMs)
      deadlines.add(this)
    }
  }

  #remove(up: Upstream): void {
    const list = this.#idle.get(up.key)
    const at = list ? list.indexOf(up) : -1
    if (at >= 0) {
      list!.splice(at, 1)
      this.#count--
      if (list!.length === 0) {
        this.#idle.delete(up.key)
      }
    }
  }
}
