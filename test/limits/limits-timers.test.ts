import { afterEach, describe, expect, test } from 'bun:test'
import { RoxyError } from '../../src/errors.ts'
import type { CreditStore, LimitRequest } from '../../src/limits/index.ts'
import { LimitsEngine, startLimitsTimers } from '../../src/limits/index.ts'
import { log } from '../../src/observe/log.ts'

const T0 = Date.parse('2026-06-10T00:00:00.000Z')
const request: LimitRequest = {
  rule: 'api',
  key: 'alice',
  ip: '10.0.0.1',
  headerKeyed: false,
  credit: { limit: 5, period: 'd', resetSchedule: 'daily@00:00', maxDelayMs: 0 },
}

afterEach(() => log.setSink({ write: (text) => process.stdout.write(text) }))

describe('the limits timers, given a state store that fails three times', () => {
  test('should retry every tick, log the failure once, then write everything', async () => {
    let calls = 0
    let written = 0
    let recovered: () => void = () => {}
    const done = new Promise<void>((resolve) => (recovered = resolve))
    const store: CreditStore = {
      load: () => {},
      save: (upserts) => {
        calls++
        if (calls <= 3) {
          throw new RoxyError('ROXY_E_STATE_STORE', 'disk full')
        }
        written += upserts.length
        recovered()
      },
      close: () => {},
    }
    const lines: string[] = []
    log.setSink({ write: (text) => lines.push(text) })
    const engine = new LimitsEngine({ now: () => T0, store })
    engine.check(request)

    const stop = startLimitsTimers(engine, { flushIntervalMs: 1, cleanupIntervalSecs: 0 })
    await done
    stop()
    log.flush()

    expect(calls).toBe(4)
    expect(written).toBe(1)
    expect(engine.stats().pendingCreditWrites).toBe(0)
    const text = lines.join('')
    expect(text.match(/state store write failed/g)?.length).toBe(1)
    expect(text).toContain('disk full (ROXY_E_STATE_STORE)')
    expect(text).toContain('state store writable again')
  })
})
