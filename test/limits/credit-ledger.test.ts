import { describe, expect, test } from 'bun:test'
import { CREDIT_IDLE_MS, CreditLedger } from '../../src/limits/credit-ledger.ts'
import type { CreditKey, CreditRecord } from '../../src/limits/credit-ledger.ts'
import { parseResetSchedule } from '../../src/limits/reset-schedule.ts'

const DAY = 86_400_000
const T0 = Date.parse('2026-06-10T00:00:00.000Z')
const daily = parseResetSchedule('daily@00:00')

function spend(ledger: CreditLedger, key: string, at: number, rule = 'api'): void {
  ledger.add(ledger.slotFor(rule, key, daily, at))
}

function capture(ledger: CreditLedger): { upserts: CreditRecord[]; deletes: CreditKey[] } {
  const written = { upserts: [] as CreditRecord[], deletes: [] as CreditKey[] }
  ledger.flush({
    save: (upserts, deletes) => {
      written.upserts.push(...upserts)
      written.deletes.push(...deletes)
    },
  })
  return written
}

describe('the credit ledger write-behind', () => {
  test('should write a slot reused after cleanup once, after the delete of its old key', () => {
    const ledger = new CreditLedger()
    spend(ledger, 'old', T0)
    capture(ledger)
    spend(ledger, 'old', T0 + 1) // dirty again, then dropped before the next flush
    const later = T0 + DAY + CREDIT_IDLE_MS
    expect(ledger.cleanup(later)).toBe(1)
    spend(ledger, 'new', later)
    spend(ledger, 'new', later)
    const written = capture(ledger)
    expect(written.deletes).toEqual([{ rule: 'api', key: 'old' }])
    expect(written.upserts.map((r) => [r.key, r.used])).toEqual([['new', 2]])
  })

  test('should keep dirty marks and balances through a compaction', () => {
    const ledger = new CreditLedger()
    for (let i = 0; i < 1000; i++) {
      spend(ledger, `k${i}`, T0)
    }
    capture(ledger)
    const later = T0 + DAY + CREDIT_IDLE_MS
    for (let i = 0; i < 5; i++) {
      spend(ledger, `k${i}`, later)
      spend(ledger, `k${i}`, later)
    }
    expect(ledger.cleanup(later)).toBe(995)
    const written = capture(ledger)
    expect(written.deletes.length).toBe(995)
    expect(written.upserts.map((r) => [r.key, r.used]).sort()).toEqual([
      ['k0', 2],
      ['k1', 2],
      ['k2', 2],
      ['k3', 2],
      ['k4', 2],
    ])
    expect(ledger.read('api', 'k3')?.periodStart).toBe(T0 + 3 * DAY)
    expect(ledger.read('api', 'k999')).toBeUndefined()
  })

  test('should scope balances per rule', () => {
    const ledger = new CreditLedger()
    spend(ledger, 'alice', T0, 'a')
    spend(ledger, 'alice', T0, 'a')
    spend(ledger, 'alice', T0, 'b')
    expect([ledger.read('a', 'alice')?.used, ledger.read('b', 'alice')?.used]).toEqual([2, 1])
  })
})
