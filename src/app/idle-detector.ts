/**
 * Notices when the proxy goes quiet, so memory can be given back once per
 * quiet spell (docs/memory.md, "Idle release of code pages").
 *
 * It costs the hot path nothing: it reads a counter the proxy keeps anyway
 * (`server.stats.requests`) once per tick, from an unref'd timer that never
 * keeps the process alive.
 *
 *   counter: 7 7 9 12 12 12 ... 12 12 12 13
 *   quiet:   . . 0  0  1  2 ...  9 10 ..  0
 *                                ^ onIdle once    ^ armed again
 *
 * The detector starts armed, so a proxy that serves nothing after start-up
 * is trimmed too (start-up itself touches much of the runtime).
 */

/** Starts `tick` every `ms`; returns a function that stops it. */
export type StartTimer = (tick: () => void, ms: number) => () => void

export interface IdleDetectorOptions {
  /** The activity counter; any change counts as activity. */
  readCount: () => number
  /** How long the counter must stay still before `onIdle`. @default 10000 */
  idleMs?: number
  /** How often the counter is read. @default 1000 */
  tickMs?: number
  /** Called once per quiet spell; an exception is the caller's to catch. */
  onIdle: () => void
  /** Timer seam for tests. @default an unref'd `setInterval` */
  startTimer?: StartTimer
}

export class IdleDetector {
  #options: IdleDetectorOptions
  #idleMs: number
  #tickMs: number
  #last: number
  #quietMs = 0
  #armed = true
  #stopTimer: (() => void) | undefined

  constructor(options: IdleDetectorOptions) {
    this.#options = options
    this.#idleMs = options.idleMs ?? 10_000
    this.#tickMs = options.tickMs ?? 1000
    this.#last = options.readCount()
  }

  /** Start reading the counter. Calling it twice has no further effect. */
  start(): void {
    if (this.#stopTimer) {
      return
    }
    const startTimer = this.#options.startTimer ?? startUnrefInterval
    this.#stopTimer = startTimer(() => this.tick(), this.#tickMs)
  }

  stop(): void {
    this.#stopTimer?.()
    this.#stopTimer = undefined
  }

  /** One reading of the counter; the timer calls it every `tickMs`. */
  tick(): void {
    const count = this.#options.readCount()
    if (count !== this.#last) {
      this.#last = count
      this.#quietMs = 0
      this.#armed = true
      return
    }
    this.#quietMs += this.#tickMs
    if (this.#armed && this.#quietMs >= this.#idleMs) {
      this.#armed = false
      this.#options.onIdle()
    }
  }
}

function startUnrefInterval(tick: () => void, ms: number): () => void {
  const timer = setInterval(tick, ms)
  timer.unref()
  return () => clearInterval(timer)
}
