import { describe, expect, test } from 'bun:test'
import { RoxyError } from '../../src/errors.ts'
import {
  defaultScheduleText,
  describeScheduleMismatch,
  formatResetTime,
  parseResetSchedule,
} from '../../src/limits/reset-schedule.ts'

const at = (iso: string): number => Date.parse(iso)
const iso = (ms: number): string => new Date(ms).toISOString()

/** [schedule, now, expected period start, expected period end] */
type PeriodCase = [string, string, string, string]

function expectPeriod(text: string, now: string, start: string, end: string): void {
  const schedule = parseResetSchedule(text)
  expect(iso(schedule.periodStart(at(now)))).toBe(start)
  expect(iso(schedule.periodEnd(at(now)))).toBe(end)
}

describe('parseResetSchedule, given valid text', () => {
  test.each([
    ['daily@00:00', 'daily', 0, 0, -1, -1],
    ['daily@23:59', 'daily', 23, 59, -1, -1],
    ['DAILY@7:05', 'daily', 7, 5, -1, -1],
    ['weekly@Mon-00:00', 'weekly', 0, 0, 0, -1],
    ['weekly@sunday-12:30', 'weekly', 12, 30, 6, -1],
    ['Weekly@FRI-17:00', 'weekly', 17, 0, 4, -1],
    ['weekly@Wednesday-08:15', 'weekly', 8, 15, 2, -1],
    ['monthly@01-00:00', 'monthly', 0, 0, -1, 1],
    ['monthly@28-23:59', 'monthly', 23, 59, -1, 28],
    ['  monthly@5-06:00 ', 'monthly', 6, 0, -1, 5],
  ])('should read %p', (text, kind, hour, minute, weekday, day) => {
    const schedule = parseResetSchedule(text)
    expect(schedule.kind).toBe(kind as 'daily' | 'weekly' | 'monthly')
    expect([schedule.hour, schedule.minute, schedule.weekday, schedule.day]).toEqual([
      hour,
      minute,
      weekday,
      day,
    ])
  })
})

describe('parseResetSchedule, given invalid text', () => {
  test.each([
    ['', 'expected daily@HH:MM, weekly@Mon-HH:MM or monthly@DD-HH:MM'],
    ['hourly@10', 'expected daily@HH:MM'],
    ['daily', 'expected the time as HH:MM'],
    ['daily@24:00', 'not a valid HH:MM'],
    ['daily@12:60', 'not a valid HH:MM'],
    ['daily@12:5', 'expected the time as HH:MM'],
    ['daily@noon', 'expected the time as HH:MM'],
    ['weekly@10:00', 'expected weekly@DAY-HH:MM'],
    ['weekly@Mun-10:00', 'unknown weekday "Mun"; use Mon..Sun or Monday..Sunday'],
    ['weekly@Mon-', 'expected the time as HH:MM'],
    ['monthly@31-00:00', 'day 31 is outside 1..28'],
    ['monthly@0-00:00', 'day 0 is outside 1..28'],
    ['monthly@x-00:00', 'expected monthly@DD-HH:MM'],
    ['monthly@15', 'expected monthly@DD-HH:MM'],
  ])('should reject %p with a message naming the problem', (text, reason) => {
    let caught: unknown
    try {
      parseResetSchedule(text)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(RoxyError)
    expect((caught as RoxyError).code).toBe('ROXY_E_CREDIT_SCHEDULE')
    expect((caught as RoxyError).message).toContain(`reset_schedule "${text}"`)
    expect((caught as RoxyError).message).toContain(reason)
  })
})

describe('a daily schedule', () => {
  // prettier-ignore
  test.each<PeriodCase>([
    ['daily@00:00', '2026-06-10T12:00:00.000Z', '2026-06-10T00:00:00.000Z', '2026-06-11T00:00:00.000Z'],
    ['daily@00:00', '2026-06-10T00:00:00.000Z', '2026-06-10T00:00:00.000Z', '2026-06-11T00:00:00.000Z'],
    ['daily@00:00', '2026-06-09T23:59:59.999Z', '2026-06-09T00:00:00.000Z', '2026-06-10T00:00:00.000Z'],
    ['daily@09:30', '2026-06-10T09:29:00.000Z', '2026-06-09T09:30:00.000Z', '2026-06-10T09:30:00.000Z'],
    ['daily@09:30', '2026-06-10T09:30:00.000Z', '2026-06-10T09:30:00.000Z', '2026-06-11T09:30:00.000Z'],
    ['daily@00:00', '2026-12-31T23:59:59.000Z', '2026-12-31T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['daily@00:00', '2028-02-29T12:00:00.000Z', '2028-02-29T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
    ['daily@23:00', '2028-02-28T23:30:00.000Z', '2028-02-28T23:00:00.000Z', '2028-02-29T23:00:00.000Z'],
  ])('%p at %p should run from %p to %p', expectPeriod)
})

describe('a weekly schedule, seen on Thursday 2024-01-04 12:00', () => {
  // 2024-01-01 was a Monday; the reset at 10:00 lies before or after `now` depending on the day.
  // prettier-ignore
  test.each<PeriodCase>([
    ['weekly@Mon-10:00', '2024-01-04T12:00:00.000Z', '2024-01-01T10:00:00.000Z', '2024-01-08T10:00:00.000Z'],
    ['weekly@Tue-10:00', '2024-01-04T12:00:00.000Z', '2024-01-02T10:00:00.000Z', '2024-01-09T10:00:00.000Z'],
    ['weekly@Wed-10:00', '2024-01-04T12:00:00.000Z', '2024-01-03T10:00:00.000Z', '2024-01-10T10:00:00.000Z'],
    ['weekly@Thu-10:00', '2024-01-04T12:00:00.000Z', '2024-01-04T10:00:00.000Z', '2024-01-11T10:00:00.000Z'],
    ['weekly@Fri-10:00', '2024-01-04T12:00:00.000Z', '2023-12-29T10:00:00.000Z', '2024-01-05T10:00:00.000Z'],
    ['weekly@Sat-10:00', '2024-01-04T12:00:00.000Z', '2023-12-30T10:00:00.000Z', '2024-01-06T10:00:00.000Z'],
    ['weekly@Sun-10:00', '2024-01-04T12:00:00.000Z', '2023-12-31T10:00:00.000Z', '2024-01-07T10:00:00.000Z'],
    ['weekly@Thursday-12:00', '2024-01-04T12:00:00.000Z', '2024-01-04T12:00:00.000Z', '2024-01-11T12:00:00.000Z'],
    ['weekly@thu-12:01', '2024-01-04T12:00:00.000Z', '2023-12-28T12:01:00.000Z', '2024-01-04T12:01:00.000Z'],
  ])('%p at %p should run from %p to %p', expectPeriod)

  // prettier-ignore
  test.each<PeriodCase>([
    ['weekly@Fri-00:00', '2027-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', '2027-01-08T00:00:00.000Z'],
    ['weekly@Fri-00:00', '2026-12-31T23:59:00.000Z', '2026-12-25T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['weekly@Tue-00:00', '2028-02-29T12:00:00.000Z', '2028-02-29T00:00:00.000Z', '2028-03-07T00:00:00.000Z'],
    ['weekly@Wed-00:00', '2028-02-29T12:00:00.000Z', '2028-02-23T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
  ])('across a year end or leap day, %p at %p should run from %p to %p', expectPeriod)
})

describe('a monthly schedule', () => {
  // prettier-ignore
  test.each<PeriodCase>([
    ['monthly@01-00:00', '2026-06-10T12:00:00.000Z', '2026-06-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z'],
    ['monthly@28-00:00', '2026-02-28T00:00:00.000Z', '2026-02-28T00:00:00.000Z', '2026-03-28T00:00:00.000Z'],
    ['monthly@28-00:00', '2026-02-27T23:59:59.999Z', '2026-01-28T00:00:00.000Z', '2026-02-28T00:00:00.000Z'],
    ['monthly@28-00:00', '2026-03-31T10:00:00.000Z', '2026-03-28T00:00:00.000Z', '2026-04-28T00:00:00.000Z'],
    ['monthly@01-00:00', '2026-12-31T23:59:59.000Z', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['monthly@01-00:00', '2027-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z'],
    ['monthly@15-12:00', '2027-01-10T00:00:00.000Z', '2026-12-15T12:00:00.000Z', '2027-01-15T12:00:00.000Z'],
    ['monthly@28-00:00', '2028-02-29T12:00:00.000Z', '2028-02-28T00:00:00.000Z', '2028-03-28T00:00:00.000Z'],
    ['monthly@01-00:00', '2028-02-29T23:59:00.000Z', '2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
    ['monthly@28-06:00', '2028-01-31T00:00:00.000Z', '2028-01-28T06:00:00.000Z', '2028-02-28T06:00:00.000Z'],
  ])('%p at %p should run from %p to %p', expectPeriod)
})

describe('one schedule asked about times out of order', () => {
  test('should not answer from a stale cached period', () => {
    const schedule = parseResetSchedule('monthly@10-00:00')
    const times = ['2026-05-20', '2026-03-01', '2026-05-09', '2026-05-10', '2025-12-31']
    const starts = times.map((day) => iso(schedule.periodStart(at(`${day}T00:00:00.000Z`))))
    expect(starts).toEqual([
      '2026-05-10T00:00:00.000Z',
      '2026-02-10T00:00:00.000Z',
      '2026-04-10T00:00:00.000Z',
      '2026-05-10T00:00:00.000Z',
      '2025-12-10T00:00:00.000Z',
    ])
  })
})

describe('schedule helpers', () => {
  test.each([
    ['d', 'daily@00:00'],
    ['w', 'weekly@Mon-00:00'],
    ['M', 'monthly@01-00:00'],
  ] as const)('the default schedule of period %p should be %p', (period, text) => {
    expect(defaultScheduleText(period)).toBe(text)
    expect(describeScheduleMismatch(period, parseResetSchedule(text))).toBeUndefined()
  })

  test('a period letter that disagrees with the schedule should give a warning', () => {
    const warning = describeScheduleMismatch('d', parseResetSchedule('weekly@Mon-00:00'))
    expect(warning).toContain("credit period '/d' (daily)")
    expect(warning).toContain('budgets reset on the schedule')
  })

  test('formatResetTime should write YYYY-MM-DDTHH:MM:SSZ', () => {
    expect(formatResetTime(at('2028-02-29T07:08:09.999Z'))).toBe('2028-02-29T07:08:09Z')
  })
})
