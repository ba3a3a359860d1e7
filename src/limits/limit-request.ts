/**
 * The call the proxy makes once per request that a `rate_limit` or `credit`
 * rule decided (shapes agreed in BRIEF-INTERFACES.md):
 *
 *   LimitRequest ──► LimitsEngine.check ──► LimitOutcome
 *
 * The nested `rateLimit` and `credit` objects are static per compiled rule:
 * build them once at (re)load and pass the same objects on every request.
 */

/** A `rate_limit(N/unit, key)` term, with the rule's `throttle:` entry folded in. */
export interface RateLimitSpec {
  /** N: requests allowed per window. */
  limit: number
  /** Window length in seconds (1, 60 or 3600 from the DSL units s, m, h). */
  windowSecs: number
  /** From `throttle.soft_limit`: requests past this count in the window are delayed. */
  softLimit?: number
  /** From `throttle.max_delay_ms`: the delay reached at the hard limit. 0 without throttle. */
  maxDelayMs: number
}

/** A `credit(N/period, key)` term, with the rule's `credits:` entry folded in. */
export interface CreditSpec {
  /** N: the budget per period. */
  limit: number
  /** The DSL period letter; informative, `resetSchedule` decides when budgets reset. */
  period: 'd' | 'w' | 'M'
  /** `daily@HH:MM`, `weekly@Mon-HH:MM` or `monthly@DD-HH:MM`, UTC; '' = derived from period. */
  resetSchedule: string
  /** From `credits.soft_limit`: requests past this many in the period are delayed. */
  softLimit?: number
  /** From `credits.max_delay_ms`: the delay reached at the budget. */
  maxDelayMs: number
  /** The 429 body; `{reset_time}` becomes `YYYY-MM-DDTHH:MM:SSZ`. */
  message?: string
}

/** One request as the limits engine sees it. */
export interface LimitRequest {
  /** Rule name; counters are scoped per rule name and survive reloads. */
  rule: string
  /** Extractor values joined with ':' (a missing header or IP is a fixed placeholder). */
  key: string
  /**
   * Key of the credit term when a composite rule gives it another key expression than
   * the rate limit's (`rate_limit(…, ip) + credit(…, header(X))`); defaults to `key`.
   */
  creditKey?: string
  /** Client IP address, for the per-IP baseline of header-keyed rate limits. */
  ip: string
  /** The key contains `header(...)`: also apply the per-IP baseline to the rate limit. */
  headerKeyed: boolean
  rateLimit?: RateLimitSpec
  credit?: CreditSpec
}

/** What the proxy does with the request. Reused between calls: copy what you keep. */
export interface LimitOutcome {
  action: 'forward' | 'rate_limited' | 'credit_exhausted'
  /** 0 when forwarded, else 429. */
  status: number
  /** Throttle or soft-limit delay to wait before forwarding; 0 on a 429. */
  delayMs: number
  /** Flat `[name, value, ...]` to add to the response, forwarded or 429. */
  headers: string[]
  /** The 429 body; '' when forwarded. */
  body: string
}

/** A fresh outcome object, for callers that keep one per connection instead of sharing. */
export function createLimitOutcome(): LimitOutcome {
  return { action: 'forward', status: 0, delayMs: 0, headers: [], body: '' }
}

/** Put `out` back to "forward, no headers" without giving up its header array. */
export function resetLimitOutcome(out: LimitOutcome): void {
  out.action = 'forward'
  out.status = 0
  out.delayMs = 0
  out.headers.length = 0
  out.body = ''
}
