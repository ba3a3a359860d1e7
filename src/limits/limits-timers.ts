import { describeError, log } from '../observe/log.ts'
import type { LimitsEngine } from './limits-engine.ts'

/** The two background jobs of a LimitsEngine. */
export interface LimitsTimerOptions {
  /** `rate_limit.cleanup_interval_secs`; 0 turns cleanup off. @default 60 */
  cleanupIntervalSecs?: number
  /** Write-behind period for credit balances. @default 1000 */
  flushIntervalMs?: number
}

/**
 * Start cleanup and write-behind for `engine` (the engine itself owns no
 * timer, so tests drive it with a fake clock). Timers are unref'd: they never
 * keep the process alive. Returns a stop function; call `engine.close()`
 * after it at shutdown to write the last changes.
 */
export function startLimitsTimers(
  engine: LimitsEngine,
  options: LimitsTimerOptions = {},
): () => void {
  const cleanupSecs = options.cleanupIntervalSecs ?? 60
  const flushMs = options.flushIntervalMs ?? 1000
  let failing = false
  const flush = setInterval(() => {
    failing = flushQuietly(engine, failing)
  }, flushMs)
  flush.unref()
  const cleanup = cleanupSecs > 0 ? setInterval(() => engine.cleanup(), cleanupSecs * 1000) : null
  cleanup?.unref()
  return function stopLimitsTimers(): void {
    clearInterval(flush)
    if (cleanup) {
      clearInterval(cleanup)
    }
  }
}

/**
 * A failed write stays pending and is retried on the next tick; it is logged
 * once per run of failures, not every second. Returns whether it failed.
 */
function flushQuietly(engine: LimitsEngine, wasFailing: boolean): boolean {
  try {
    engine.flush()
    if (wasFailing) {
      log.info('credit', 'state store writable again')
    }
    return false
  } catch (err) {
    if (!wasFailing) {
      log.warn('credit', 'state store write failed; retrying', { error: describeError(err) })
    }
    return true
  }
}
