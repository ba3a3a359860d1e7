import { afterAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RoxyError } from '../../src/errors.ts'
import { CreditLedger } from '../../src/limits/credit-ledger.ts'
import type { CreditRecord } from '../../src/limits/credit-ledger.ts'
import type { CreditSpec, LimitRequest } from '../../src/limits/index.ts'
import { LimitsEngine, SqliteCreditStore, openCreditStore } from '../../src/limits/index.ts'
import { parseResetSchedule } from '../../src/limits/reset-schedule.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const T0 = Date.parse('2026-06-10T00:00:00.000Z')
const dir = mkdtempSync(join(tmpdir(), 'roxy-limits-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let fileNumber = 0
function freshPath(): string {
  return join(dir, `state-${++fileNumber}.sqlite`)
}

const budget: CreditSpec = {
  limit: 10,
  period: 'd',
  resetSchedule: 'daily@00:00',
  maxDelayMs: 0,
}

function spend(engine: LimitsEngine, key: string, n: number): void {
  const req: LimitRequest = { rule: 'api', key, ip: '10.0.0.1', headerKeyed: false, credit: budget }
  for (let i = 0; i < n; i++) {
    expect(engine.check(req).action).toBe('forward')
  }
}

function remaining(engine: LimitsEngine, key: string): string {
  const req: LimitRequest = { rule: 'api', key, ip: '10.0.0.1', headerKeyed: false, credit: budget }
  const headers = engine.check(req).headers
  return headers[headers.indexOf('X-Credit-Remaining') + 1]
}

describe('credit balances in a SQLite state file', () => {
  test('should be the same after close and reopen', () => {
    const path = freshPath()
    const clock = { now: T0 + HOUR }
    const first = new LimitsEngine({ now: () => clock.now, store: openCreditStore(path) })
    spend(first, 'alice', 3)
    spend(first, 'bob', 7)
    first.close()

    const second = new LimitsEngine({ now: () => clock.now, store: openCreditStore(path) })
    expect([second.creditsUsed('api', 'alice'), second.creditsUsed('api', 'bob')]).toEqual([3, 7])
    expect(remaining(second, 'alice')).toBe('6')
    expect(second.stats().creditKeys).toBe(2)
    second.close()
  })

  test('should lose at most the changes since the last flush when the process is killed', () => {
    const path = freshPath()
    const clock = { now: T0 + HOUR }
    const store = openCreditStore(path)!
    const first = new LimitsEngine({ now: () => clock.now, store })
    spend(first, 'alice', 2)
    expect(first.flush()).toBe(1)
    expect(first.flush()).toBe(0)
    spend(first, 'alice', 3)
    spend(first, 'carol', 1)
    expect(first.stats().pendingCreditWrites).toBe(2)
    store.close() // killed: the engine never flushes again

    const second = new LimitsEngine({ now: () => clock.now, store: openCreditStore(path) })
    expect(second.creditsUsed('api', 'alice')).toBe(2)
    expect(second.creditsUsed('api', 'carol')).toBe(0)
    second.close()
  })

  test('should start a fresh budget when restored after the reset time', () => {
    const path = freshPath()
    const clock = { now: T0 + 23 * HOUR }
    const first = new LimitsEngine({ now: () => clock.now, store: openCreditStore(path) })
    spend(first, 'alice', 10)
    first.close()

    clock.now = T0 + DAY + HOUR
    const second = new LimitsEngine({ now: () => clock.now, store: openCreditStore(path) })
    expect(remaining(second, 'alice')).toBe('9')
    second.close()
  })

  test('should delete the rows of balances dropped by cleanup', () => {
    const path = freshPath()
    const clock = { now: T0 + HOUR }
    const first = new LimitsEngine({ now: () => clock.now, store: openCreditStore(path) })
    spend(first, 'alice', 1)
    first.flush()
    expect(first.cleanup(T0 + 3 * DAY).credit).toBe(1)
    first.close()

    const db = new Database(path, { readonly: true })
    expect(db.query('SELECT COUNT(*) AS n FROM credits').get()).toEqual({ n: 0 })
    db.close()
  })
})

describe('opening the state store', () => {
  test.each([[undefined], [''], [':memory:']])('%p should mean memory only', (path) => {
    expect(openCreditStore(path)).toBeUndefined()
  })

  test('a path in a missing directory should fail with ROXY_E_STATE_STORE naming it', () => {
    const path = join(dir, 'missing', 'state.sqlite')
    expect(() => new SqliteCreditStore(path)).toThrow(
      expect.objectContaining({
        code: 'ROXY_E_STATE_STORE',
        message: expect.stringContaining(path),
      }),
    )
  })

  test('a file from a newer roxy should be refused, not rewritten', () => {
    const path = freshPath()
    const db = new Database(path, { create: true })
    db.run('PRAGMA user_version = 99')
    db.close()
    let caught: unknown
    try {
      openCreditStore(path)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(RoxyError)
    expect((caught as RoxyError).code).toBe('ROXY_E_STATE_STORE')
    expect((caught as RoxyError).message).toContain('schema 99')
  })
})

describe('a flush whose write fails', () => {
  test('should keep every change pending and write it on the next flush', () => {
    const ledger = new CreditLedger()
    const schedule = parseResetSchedule('daily@00:00')
    ledger.add(ledger.slotFor('api', 'alice', schedule, T0))
    ledger.add(ledger.slotFor('api', 'alice', schedule, T0))
    const failing = {
      save(): void {
        throw new RoxyError('ROXY_E_STATE_STORE', 'disk full')
      },
    }
    expect(() => ledger.flush(failing)).toThrow('disk full')
    expect(ledger.pendingChanges).toBe(1)
    const saved: CreditRecord[] = []
    ledger.flush({ save: (upserts) => saved.push(...upserts) })
    expect(saved).toEqual([
      {
        rule: 'api',
        key: 'alice',
        used: 2,
        periodStart: T0,
        periodEnd: T0 + DAY,
        lastAccess: T0,
      },
    ])
    expect(ledger.pendingChanges).toBe(0)
  })
})
