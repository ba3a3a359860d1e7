import { describe, expect, test } from 'bun:test'
import type {
  CreditSpec,
  LimitOutcome,
  LimitRequest,
  RateLimitSpec,
} from '../../src/limits/index.ts'
import { LimitsEngine, computeSoftDelay, createLimitOutcome } from '../../src/limits/index.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
/** Midnight UTC, a Wednesday: aligned to every fixed window. */
const T0 = Date.parse('2026-06-10T00:00:00.000Z')

interface Harness {
  engine: LimitsEngine
  clock: { now: number }
}

function makeEngine(): Harness {
  const clock = { now: T0 }
  return { engine: new LimitsEngine({ now: () => clock.now }), clock }
}

function rate(limit: number, windowSecs = 60, extra: Partial<RateLimitSpec> = {}): RateLimitSpec {
  return { limit, windowSecs, maxDelayMs: 0, ...extra }
}

function credit(limit: number, extra: Partial<CreditSpec> = {}): CreditSpec {
  return { limit, period: 'd', resetSchedule: 'daily@00:00', maxDelayMs: 0, ...extra }
}

function request(extra: Partial<LimitRequest>): LimitRequest {
  return { rule: 'api', key: 'alice', ip: '10.0.0.1', headerKeyed: false, ...extra }
}

/** A copy of what we look at: the engine reuses its outcome object. */
function snapshot(out: LimitOutcome) {
  return {
    action: out.action,
    status: out.status,
    delayMs: out.delayMs,
    body: out.body,
    headers: [...out.headers],
  }
}

function check(h: Harness, req: LimitRequest) {
  return snapshot(h.engine.check(req))
}

function header(headers: string[], name: string): string | undefined {
  const i = headers.indexOf(name)
  return i < 0 ? undefined : headers[i + 1]
}

function checkMany(h: Harness, req: LimitRequest, n: number) {
  return Array.from({ length: n }, () => check(h, req))
}

describe('a rate limit of 3 per minute', () => {
  test('should count down X-RateLimit-Remaining, then answer 429 with Retry-After', () => {
    const h = makeEngine()
    h.clock.now = T0 + 20_000
    const outs = checkMany(h, request({ rateLimit: rate(3) }), 4)
    expect(outs.map((o) => o.action)).toEqual(['forward', 'forward', 'forward', 'rate_limited'])
    expect(outs.slice(0, 3).map((o) => o.headers)).toEqual([
      ['X-RateLimit-Limit', '3', 'X-RateLimit-Remaining', '2', 'X-RateLimit-Reset', '40'],
      ['X-RateLimit-Limit', '3', 'X-RateLimit-Remaining', '1', 'X-RateLimit-Reset', '40'],
      ['X-RateLimit-Limit', '3', 'X-RateLimit-Remaining', '0', 'X-RateLimit-Reset', '40'],
    ])
    expect(outs[3]).toEqual({
      action: 'rate_limited',
      status: 429,
      delayMs: 0,
      body: 'Rate limit exceeded',
      // The window ends in 40 s, but at that instant the 3 requests still weigh fully.
      headers: [
        'Retry-After',
        '41',
        'X-RateLimit-Limit',
        '3',
        'X-RateLimit-Remaining',
        '0',
        'X-RateLimit-Reset',
        '41',
      ],
    })
    expect(outs[0]).toMatchObject({ status: 0, body: '', delayMs: 0 })
  })

  test('should allow again once the previous window decayed below the limit', () => {
    const h = makeEngine()
    const req = request({ rateLimit: rate(3) })
    checkMany(h, req, 3)
    h.clock.now = T0 + MINUTE
    expect(check(h, req).action).toBe('rate_limited')
    h.clock.now = T0 + MINUTE + 1
    const out = check(h, req)
    expect(out.action).toBe('forward')
    expect(header(out.headers, 'X-RateLimit-Remaining')).toBe('0')
  })

  test('should report Reset as at least 1 second, even at the end of a window', () => {
    const h = makeEngine()
    h.clock.now = T0 + MINUTE - 1
    expect(header(check(h, request({ rateLimit: rate(3) })).headers, 'X-RateLimit-Reset')).toBe('1')
    h.clock.now = T0 + 999
    const perSecond = check(h, request({ rateLimit: rate(3, 1) }))
    expect(header(perSecond.headers, 'X-RateLimit-Reset')).toBe('1')
  })

  test('should round Remaining so that it promises only requests that will pass', () => {
    const h = makeEngine()
    const req = request({ rateLimit: rate(10) })
    checkMany(h, req, 10)
    h.clock.now = T0 + MINUTE + 15_000 // previous weighs 0.75: count 7.5
    const outs = checkMany(h, req, 3)
    expect(outs.map((o) => header(o.headers, 'X-RateLimit-Remaining'))).toEqual(['2', '1', '0'])
    expect(outs.map((o) => o.action)).toEqual(['forward', 'forward', 'forward'])
    expect(check(h, req).action).toBe('rate_limited')
  })
})

describe('counters scoped per rule', () => {
  test('two rules with the same key should never share a counter', () => {
    const h = makeEngine()
    checkMany(h, request({ rule: 'a', rateLimit: rate(2) }), 2)
    expect(check(h, request({ rule: 'a', rateLimit: rate(2) })).action).toBe('rate_limited')
    expect(check(h, request({ rule: 'b', rateLimit: rate(2) })).action).toBe('forward')
  })

  test('two keys of one rule should never share a counter', () => {
    const h = makeEngine()
    checkMany(h, request({ key: 'alice', rateLimit: rate(1) }), 1)
    expect(check(h, request({ key: 'bob', rateLimit: rate(1) })).action).toBe('forward')
  })
})

describe('a header-keyed rate limit', () => {
  test('should also cap each client IP at N, so rotating header values does not help', () => {
    const h = makeEngine()
    const outs = ['k1', 'k2', 'k3', 'k4'].map((key) =>
      check(h, request({ key, headerKeyed: true, rateLimit: rate(3) })),
    )
    expect(outs.map((o) => o.action)).toEqual(['forward', 'forward', 'forward', 'rate_limited'])
    expect(outs.map((o) => header(o.headers, 'X-RateLimit-Remaining'))).toEqual([
      '2',
      '1',
      '0',
      '0',
    ])
    const otherIp = request({ key: 'k5', ip: '10.0.0.2', headerKeyed: true, rateLimit: rate(3) })
    expect(check(h, otherIp).action).toBe('forward')
  })

  test('should still limit one key used from several IPs', () => {
    const h = makeEngine()
    const ips = ['10.0.0.1', '10.0.0.2', '10.0.0.3']
    const outs = ips.map((ip) => check(h, request({ ip, headerKeyed: true, rateLimit: rate(2) })))
    expect(outs.map((o) => o.action)).toEqual(['forward', 'forward', 'rate_limited'])
  })

  test('should count a request rejected by the baseline against neither counter', () => {
    const h = makeEngine()
    checkMany(h, request({ key: 'k1', headerKeyed: true, rateLimit: rate(2) }), 2)
    check(h, request({ key: 'k2', headerKeyed: true, rateLimit: rate(2) }))
    const fromElsewhere = request({ key: 'k2', ip: '10.0.0.9', headerKeyed: true })
    expect(check(h, { ...fromElsewhere, rateLimit: rate(2) }).action).toBe('forward')
  })

  test('should put requests without a client IP under one placeholder IP', () => {
    const h = makeEngine()
    const outs = ['k1', 'k2'].map((key) =>
      check(h, request({ key, ip: '', headerKeyed: true, rateLimit: rate(1) })),
    )
    expect(outs.map((o) => o.action)).toEqual(['forward', 'rate_limited'])
  })

  test('without a header in the key there should be no IP baseline', () => {
    const h = makeEngine()
    const outs = ['k1', 'k2', 'k3'].map((key) => check(h, request({ key, rateLimit: rate(1) })))
    expect(outs.map((o) => o.action)).toEqual(['forward', 'forward', 'forward'])
  })
})

describe('a reload', () => {
  test('raising or lowering N should keep the counts', () => {
    const h = makeEngine()
    checkMany(h, request({ rateLimit: rate(5) }), 3)
    const raised = check(h, request({ rateLimit: rate(10) }))
    expect(header(raised.headers, 'X-RateLimit-Remaining')).toBe('6')
    expect(check(h, request({ rateLimit: rate(4) })).action).toBe('rate_limited')
  })

  test('changing the unit should keep the counts and follow the new window length', () => {
    const h = makeEngine()
    h.clock.now = T0 + 30_000
    checkMany(h, request({ rateLimit: rate(3, 60) }), 3)
    h.clock.now = T0 + 45_000
    const hourly = check(h, request({ rateLimit: rate(3, 3600) }))
    expect(hourly.action).toBe('rate_limited')
    expect(header(hourly.headers, 'Retry-After')).toBe('3556')
  })

  test('raising or lowering a credit budget should keep what was spent', () => {
    const h = makeEngine()
    checkMany(h, request({ credit: credit(3) }), 3)
    expect(check(h, request({ credit: credit(3) })).action).toBe('credit_exhausted')
    const raised = check(h, request({ credit: credit(5) }))
    expect(header(raised.headers, 'X-Credit-Remaining')).toBe('1')
    expect(check(h, request({ credit: credit(2) })).action).toBe('credit_exhausted')
  })
})

describe('a throttle past the soft limit', () => {
  test('should delay (used − soft)/(N − soft) × max_delay_ms, counting this request', () => {
    const h = makeEngine()
    const req = request({ rateLimit: rate(6, 60, { softLimit: 2, maxDelayMs: 1000 }) })
    expect(checkMany(h, req, 7).map((o) => o.delayMs)).toEqual([0, 0, 250, 500, 750, 1000, 0])
  })

  test.each([
    [3, 10, undefined, 1000, 0],
    [3, 10, 5, 1000, 0],
    [6, 10, 5, 1000, 200],
    [7.5, 10, 5, 2000, 1000],
    [11, 10, 5, 1000, 1000],
    [6, 10, 5, 0, 0],
    [6, 5, 5, 400, 400],
  ])('used %p of %p, soft %p, max %p should give %pms', (used, limit, soft, max, delay) => {
    expect(computeSoftDelay(used, limit, soft, max)).toBe(delay)
  })
})

describe('a credit of 3 per day resetting at midnight UTC', () => {
  test('should count down X-Credit-Remaining, then answer 429 with the message', () => {
    const h = makeEngine()
    h.clock.now = T0 + 18 * HOUR
    const message = 'Budget spent, come back at {reset_time} ({reset_time})'
    const outs = checkMany(h, request({ credit: credit(3, { message }) }), 4)
    expect(outs.slice(0, 3).map((o) => o.headers)).toEqual([
      ['X-Credit-Limit', '3', 'X-Credit-Remaining', '2', 'X-Credit-Reset', '21600'],
      ['X-Credit-Limit', '3', 'X-Credit-Remaining', '1', 'X-Credit-Reset', '21600'],
      ['X-Credit-Limit', '3', 'X-Credit-Remaining', '0', 'X-Credit-Reset', '21600'],
    ])
    expect(outs[3]).toEqual({
      action: 'credit_exhausted',
      status: 429,
      delayMs: 0,
      body: 'Budget spent, come back at 2026-06-11T00:00:00Z (2026-06-11T00:00:00Z)',
      headers: [
        'Retry-After',
        '21600',
        'X-Credit-Limit',
        '3',
        'X-Credit-Remaining',
        '0',
        'X-Credit-Reset',
        '21600',
      ],
    })
  })

  test('should start a fresh budget with the first request after the reset time', () => {
    const h = makeEngine()
    h.clock.now = T0 + 23 * HOUR
    checkMany(h, request({ credit: credit(3) }), 3)
    h.clock.now = T0 + DAY - 1
    expect(check(h, request({ credit: credit(3) })).action).toBe('credit_exhausted')
    h.clock.now = T0 + DAY
    const fresh = check(h, request({ credit: credit(3) }))
    expect(header(fresh.headers, 'X-Credit-Remaining')).toBe('2')
    expect(header(fresh.headers, 'X-Credit-Reset')).toBe('86400')
  })

  test('should start fresh after a long idle time spanning several resets', () => {
    const h = makeEngine()
    checkMany(h, request({ credit: credit(3) }), 3)
    h.clock.now = T0 + 10 * DAY + 5 * HOUR
    expect(header(check(h, request({ credit: credit(3) })).headers, 'X-Credit-Remaining')).toBe('2')
  })

  test('without a message should say when it resets', () => {
    const h = makeEngine()
    h.clock.now = T0 + HOUR
    const out = checkMany(h, request({ credit: credit(1) }), 2)[1]
    expect(out.body).toBe('Credit limit exceeded; resets at 2026-06-11T00:00:00Z')
  })

  test('with no reset_schedule should reset at the start of its period letter', () => {
    const h = makeEngine()
    const monthly = request({ credit: credit(1, { period: 'M', resetSchedule: '' }) })
    check(h, monthly)
    expect(header(check(h, monthly).headers, 'Retry-After')).toBe(String(21 * 86400))
  })

  test('should delay past its soft limit like a throttle', () => {
    const h = makeEngine()
    const req = request({ credit: credit(4, { softLimit: 2, maxDelayMs: 800 }) })
    expect(checkMany(h, req, 5).map((o) => o.delayMs)).toEqual([0, 0, 400, 800, 0])
  })
})

describe('a composite rate_limit + credit', () => {
  const composite = (rateLimit: RateLimitSpec, budget: CreditSpec) =>
    request({ rateLimit, credit: budget })

  test('allowed: rate-limit headers first, then credit headers, and the larger delay', () => {
    const h = makeEngine()
    h.clock.now = T0 + 12 * HOUR + 30_000
    const req = composite(
      rate(4, 60, { softLimit: 1, maxDelayMs: 300 }),
      credit(10, { softLimit: 1, maxDelayMs: 900 }),
    )
    const outs = checkMany(h, req, 2)
    expect(outs[1].headers).toEqual([
      'X-RateLimit-Limit',
      '4',
      'X-RateLimit-Remaining',
      '2',
      'X-RateLimit-Reset',
      '30',
      'X-Credit-Limit',
      '10',
      'X-Credit-Remaining',
      '8',
      'X-Credit-Reset',
      '43170',
    ])
    expect(outs.map((o) => o.delayMs)).toEqual([0, 100])
    h.clock.now += MINUTE * 5
    expect(
      check(h, { ...req, credit: credit(10, { softLimit: 8, maxDelayMs: 900 }) }),
    ).toMatchObject({ delayMs: 0 })
  })

  test('rate limited: the credit is neither checked nor spent', () => {
    const h = makeEngine()
    const req = composite(rate(1), credit(10))
    check(h, req)
    const out = check(h, req)
    expect(out.action).toBe('rate_limited')
    expect(out.headers.filter((_, i) => i % 2 === 0)).toEqual([
      'Retry-After',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
    ])
    expect(h.engine.creditsUsed('api', 'alice')).toBe(1)
  })

  test('credit exhausted: the 429 also carries the rate-limit headers', () => {
    const h = makeEngine()
    h.clock.now = T0 + 20 * HOUR
    const req = composite(rate(5, 60, { softLimit: 0, maxDelayMs: 1000 }), credit(1))
    check(h, req)
    const out = check(h, req)
    expect(out).toEqual({
      action: 'credit_exhausted',
      status: 429,
      delayMs: 0,
      body: 'Credit limit exceeded; resets at 2026-06-11T00:00:00Z',
      headers: [
        'X-RateLimit-Limit',
        '5',
        'X-RateLimit-Remaining',
        '3',
        'X-RateLimit-Reset',
        '60',
        'Retry-After',
        '14400',
        'X-Credit-Limit',
        '1',
        'X-Credit-Remaining',
        '0',
        'X-Credit-Reset',
        '14400',
      ],
    })
  })
})

describe('the outcome object', () => {
  test('should be reused by default and written into a caller-owned one on request', () => {
    const h = makeEngine()
    const req = request({ rateLimit: rate(5) })
    const first = h.engine.check(req)
    expect(h.engine.check(req)).toBe(first)
    const mine = createLimitOutcome()
    expect(h.engine.check(req, mine)).toBe(mine)
    expect(header(mine.headers, 'X-RateLimit-Remaining')).toBe('2')
    expect(header(first.headers, 'X-RateLimit-Remaining')).toBe('3')
  })
})

describe('cleanup', () => {
  test('should drop rate counters idle for two windows and keep live ones', () => {
    const h = makeEngine()
    check(h, request({ key: 'idle', headerKeyed: true, rateLimit: rate(5) }))
    h.clock.now = T0 + MINUTE
    check(h, request({ key: 'live', ip: '10.0.0.2', rateLimit: rate(5) }))
    expect(h.engine.stats().rateKeys).toBe(3)
    expect(h.engine.cleanup(T0 + 2 * MINUTE)).toEqual({ rate: 2, credit: 0 })
    expect(h.engine.stats().rateKeys).toBe(1)
  })

  test('should drop credit balances only when their period ended and they were idle 48 h', () => {
    const h = makeEngine()
    h.clock.now = T0 + 23 * HOUR
    check(h, request({ key: 'weekly', credit: credit(5, { resetSchedule: 'weekly@Mon-00:00' }) }))
    check(h, request({ key: 'daily', credit: credit(5) }))
    h.clock.now = T0 + 3 * DAY
    check(h, request({ key: 'recent', credit: credit(5) }))
    expect(h.engine.cleanup(T0 + 2 * DAY + 23 * HOUR - 1)).toEqual({ rate: 0, credit: 0 })
    expect(h.engine.cleanup(T0 + 2 * DAY + 23 * HOUR)).toEqual({ rate: 0, credit: 1 })
    expect(h.engine.creditsUsed('api', 'daily')).toBe(0)
    expect(h.engine.creditsUsed('api', 'weekly')).toBe(1)
    expect(h.engine.cleanup(T0 + 5 * DAY - 1)).toEqual({ rate: 0, credit: 0 })
    expect(h.engine.cleanup(T0 + 5 * DAY)).toEqual({ rate: 0, credit: 2 })
    expect(h.engine.stats().creditKeys).toBe(0)
  })
})
