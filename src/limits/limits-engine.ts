import { log } from '../observe/log.ts'
import { CreditLedger } from './credit-ledger.ts'
import type { CreditStore } from './credit-store.ts'
import { formatDecimal } from './format-decimal.ts'
import type { CreditSpec, LimitOutcome, LimitRequest, RateLimitSpec } from './limit-request.ts'
import { createLimitOutcome, resetLimitOutcome } from './limit-request.ts'
import type { ResetSchedule } from './reset-schedule.ts'
import { defaultScheduleText, formatResetTime, parseResetSchedule } from './reset-schedule.ts'
import { SlidingWindows } from './sliding-windows.ts'

/**
 * Rate limits and credit budgets behind one call (SPEC §6):
 *
 *   check(req) ─► rate limit (key, plus the IP baseline when header-keyed)
 *                   │ over: 429 `Rate limit exceeded`, credit untouched
 *                   ▼
 *                 credit (renewed on its reset schedule)
 *                   │ exhausted: 429 with the message, rate-limit headers kept
 *                   ▼
 *                 forward, after max(throttle delay, credit soft-limit delay)
 *
 * Counters live here, outside any config snapshot, keyed by rule name, so a
 * reload that changes N, the unit or the schedule keeps them. For a known key
 * a check allocates nothing: slots are typed-array records, header values
 * come from a cache, and the outcome object is reused.
 */

export const RATE_LIMIT_BODY = 'Rate limit exceeded'
/** The 429 body of an exhausted credit without a configured `message`. */
export const DEFAULT_CREDIT_MESSAGE = 'Credit limit exceeded; resets at {reset_time}'
/** Baseline key for a request whose client IP is unknown. */
const NO_IP = '-'

/** How a LimitsEngine is built. */
export interface LimitsEngineOptions {
  /** Milliseconds since the epoch; inject a fake clock in tests. @default Date.now */
  now?: () => number
  /** Where credits survive restarts; restored from at construction. @default memory only */
  store?: CreditStore
}

/** Counter sizes, for the runtime metrics line. */
export interface LimitsStats {
  rateKeys: number
  creditKeys: number
  pendingCreditWrites: number
}

/** The limits engine; see the flow above. Synchronous and socket-free. */
export class LimitsEngine {
  #now: () => number
  #store: CreditStore | undefined
  #windows = new SlidingWindows()
  #ledger = new CreditLedger()
  #schedules = new Map<string, ResetSchedule>()
  #outcome = createLimitOutcome()
  #lastBodyTemplate = ''
  #lastBodyEnd = 0
  #lastBody = ''

  constructor(options: LimitsEngineOptions = {}) {
    this.#now = options.now ?? Date.now
    this.#store = options.store
    this.#store?.load((record) => this.#ledger.restore(record))
  }

  /** Whether credit balances are kept in a store (else memory only). */
  get hasStore(): boolean {
    return this.#store !== undefined
  }

  /**
   * Start keeping credits in `store`, restoring what it holds: for an engine
   * made before any rule needed credits (a reload may bring the first).
   */
  attachStore(store: CreditStore | undefined): void {
    if (this.#store || !store) {
      return
    }
    this.#store = store
    store.load((record) => this.#ledger.restore(record))
  }

  /**
   * Decide one request. Writes into `out` (by default one object owned by the
   * engine and reused by the next call: copy the headers before awaiting).
   */
  check(req: LimitRequest, out: LimitOutcome = this.#outcome): LimitOutcome {
    const now = this.#now()
    resetLimitOutcome(out)
    if (req.rateLimit && !this.#checkRate(req, req.rateLimit, now, out)) {
      return out
    }
    if (req.credit) {
      this.#checkCredit(req, req.credit, now, out)
    }
    return out
  }

  /** Drop idle rate counters and ended, idle credit balances (SPEC §6 cleanup). */
  cleanup(now: number = this.#now()): { rate: number; credit: number } {
    const dropped = { rate: this.#windows.cleanup(now), credit: this.#ledger.cleanup(now) }
    if ((dropped.rate || dropped.credit) && log.isEnabled('debug', 'ratelimit')) {
      log.debug('ratelimit', 'cleanup', { ...dropped, ...this.stats() })
    }
    return dropped
  }

  /** Write changed credit balances to the store now. Throws `ROXY_E_STATE_STORE`. */
  flush(): number {
    return this.#store ? this.#ledger.flush(this.#store) : 0
  }

  /** Flush, then close the store (shutdown). */
  close(): void {
    try {
      this.flush()
    } finally {
      this.#store?.close()
      this.#store = undefined
    }
  }

  stats(): LimitsStats {
    return {
      rateKeys: this.#windows.size,
      creditKeys: this.#ledger.size,
      pendingCreditWrites: this.#ledger.pendingChanges,
    }
  }

  /** Credits spent by (rule, key) in the period it last saw (0 if unknown); touches nothing. */
  creditsUsed(rule: string, key: string): number {
    return this.#ledger.read(rule, key)?.used ?? 0
  }

  /** Returns false when the request is rate limited (and `out` says so). */
  #checkRate(req: LimitRequest, spec: RateLimitSpec, now: number, out: LimitOutcome): boolean {
    const windows = this.#windows
    const windowMs = spec.windowSecs * 1000
    const keySlot = windows.slotFor(req.rule, false, req.key, windowMs, now)
    const ipSlot = req.headerKeyed
      ? windows.slotFor(req.rule, true, req.ip || NO_IP, windowMs, now)
      : -1
    const count = Math.max(windows.count(keySlot, now), ipSlot < 0 ? 0 : windows.count(ipSlot, now))
    if (count >= spec.limit) {
      const retryMs = Math.max(
        this.#retryMs(keySlot, spec.limit, now),
        this.#retryMs(ipSlot, spec.limit, now),
      )
      this.#reject(out, 'rate_limited', retryMs, RATE_LIMIT_BODY)
      pushCounterHeaders(out, RATE_HEADERS, spec.limit, 0, retryMs)
      return false
    }

    windows.add(keySlot)
    if (ipSlot >= 0) {
      windows.add(ipSlot)
    }
    // `used` counts this request; Remaining is what would still pass right now.
    const used = count + 1
    const remaining = Math.ceil(spec.limit - used)
    pushCounterHeaders(out, RATE_HEADERS, spec.limit, remaining, windows.resetMs(keySlot, now))
    out.delayMs = computeSoftDelay(used, spec.limit, spec.softLimit, spec.maxDelayMs)
    return true
  }

  /** Time until `slot` (if any, and if over the limit) lets a request through; else 0. */
  #retryMs(slot: number, limit: number, now: number): number {
    if (slot < 0 || this.#windows.count(slot, now) < limit) {
      return 0
    }
    return this.#windows.retryMs(slot, limit, now)
  }

  #checkCredit(req: LimitRequest, spec: CreditSpec, now: number, out: LimitOutcome): void {
    const schedule = this.#scheduleFor(spec)
    const slot = this.#ledger.slotFor(req.rule, req.creditKey ?? req.key, schedule, now)
    const resetMs = this.#ledger.periodEnd(slot) - now
    if (this.#ledger.used(slot) >= spec.limit) {
      const body = this.#creditBody(spec.message ?? DEFAULT_CREDIT_MESSAGE, now + resetMs)
      this.#reject(out, 'credit_exhausted', resetMs, body)
      pushCounterHeaders(out, CREDIT_HEADERS, spec.limit, 0, resetMs)
      return
    }
    this.#ledger.add(slot)
    const used = this.#ledger.used(slot)
    pushCounterHeaders(out, CREDIT_HEADERS, spec.limit, spec.limit - used, resetMs)
    const delay = computeSoftDelay(used, spec.limit, spec.softLimit, spec.maxDelayMs)
    out.delayMs = Math.max(out.delayMs, delay)
  }

  #reject(out: LimitOutcome, action: LimitOutcome['action'], retryMs: number, body: string) {
    out.action = action
    out.status = 429
    out.delayMs = 0
    out.body = body
    out.headers.push('Retry-After', formatDecimal(toSeconds(retryMs)))
  }

  /** Parsed once per schedule text; an invalid one throws (config validation runs first). */
  #scheduleFor(spec: CreditSpec): ResetSchedule {
    const text = spec.resetSchedule || defaultScheduleText(spec.period)
    let schedule = this.#schedules.get(text)
    if (!schedule) {
      schedule = parseResetSchedule(text)
      this.#schedules.set(text, schedule)
    }
    return schedule
  }

  /** The message with `{reset_time}` filled in; the last one is kept, clients retry a lot. */
  #creditBody(template: string, resetAt: number): string {
    if (template !== this.#lastBodyTemplate || resetAt !== this.#lastBodyEnd) {
      this.#lastBodyTemplate = template
      this.#lastBodyEnd = resetAt
      this.#lastBody = template.replaceAll('{reset_time}', formatResetTime(resetAt))
    }
    return this.#lastBody
  }
}

interface CounterHeaderNames {
  limit: string
  remaining: string
  reset: string
}

const RATE_HEADERS: CounterHeaderNames = {
  limit: 'X-RateLimit-Limit',
  remaining: 'X-RateLimit-Remaining',
  reset: 'X-RateLimit-Reset',
}
const CREDIT_HEADERS: CounterHeaderNames = {
  limit: 'X-Credit-Limit',
  remaining: 'X-Credit-Remaining',
  reset: 'X-Credit-Reset',
}

function pushCounterHeaders(
  out: LimitOutcome,
  names: CounterHeaderNames,
  limit: number,
  remaining: number,
  resetMs: number,
): void {
  out.headers.push(
    names.limit,
    formatDecimal(limit),
    names.remaining,
    formatDecimal(Math.max(0, remaining)),
    names.reset,
    formatDecimal(toSeconds(resetMs)),
  )
}

/**
 * The throttle / soft-limit delay: `(used − soft) / (N − soft) × max`, where
 * `used` counts this request, so the delay grows from just above 0 for the
 * first request past the soft limit to `max` for the last one allowed.
 */
export function computeSoftDelay(
  used: number,
  limit: number,
  softLimit: number | undefined,
  maxDelayMs: number,
): number {
  if (softLimit === undefined || used <= softLimit || maxDelayMs <= 0) {
    return 0
  }
  const share = limit > softLimit ? (used - softLimit) / (limit - softLimit) : 1
  return Math.round(Math.min(1, share) * maxDelayMs)
}

/** Whole seconds for Reset and Retry-After headers: rounded up, at least 1. */
function toSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}
