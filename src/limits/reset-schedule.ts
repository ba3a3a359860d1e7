import { RoxyError } from '../errors.ts'

/**
 * When credit budgets reset, in UTC (SPEC §6):
 *
 *   daily@HH:MM          every day at HH:MM
 *   weekly@Mon-HH:MM     every week on that day (Mon..Sun or Monday..Sunday)
 *   monthly@DD-HH:MM     every month on day DD (1..28, so every month has it)
 *
 * Words are case-insensitive; HH and DD take one or two digits, MM two.
 * A period runs from one reset time (inclusive) to the next (exclusive).
 */

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const DAY_MS = 24 * HOUR_MS
const WEEK_MS = 7 * DAY_MS
/** 1970-01-01 was a Thursday: the Monday before it is day −3. */
const EPOCH_MONDAY_DAY = -3

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
const FULL_WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']

/** The three schedule kinds; they match the DSL period letters d, w and M. */
export type ScheduleKind = 'daily' | 'weekly' | 'monthly'

const KIND_OF_PERIOD: Record<'d' | 'w' | 'M', ScheduleKind> = {
  d: 'daily',
  w: 'weekly',
  M: 'monthly',
}

/** A parsed `reset_schedule`, with the period around the last `now` cached. */
export class ResetSchedule {
  readonly kind: ScheduleKind
  /** The text it was parsed from. */
  readonly text: string
  readonly hour: number
  readonly minute: number
  /** 0 = Monday .. 6 = Sunday for weekly schedules, else −1. */
  readonly weekday: number
  /** 1..28 for monthly schedules, else −1. */
  readonly day: number
  #start = 0
  #end = 0
  #scratch = new Date(0)

  constructor(text: string, kind: ScheduleKind, fields: ScheduleFields) {
    this.text = text
    this.kind = kind
    this.hour = fields.hour
    this.minute = fields.minute
    this.weekday = fields.weekday
    this.day = fields.day
  }

  /** The latest reset time at or before `now` (ms since the epoch). */
  periodStart(now: number): number {
    this.#locate(now)
    return this.#start
  }

  /** The first reset time after `now`. */
  periodEnd(now: number): number {
    this.#locate(now)
    return this.#end
  }

  #locate(now: number): void {
    if (now >= this.#start && now < this.#end) {
      return
    }
    const clock = this.hour * HOUR_MS + this.minute * MINUTE_MS
    switch (this.kind) {
      case 'daily':
        this.#setFixed(now, DAY_MS, clock)
        return
      case 'weekly':
        this.#setFixed(now, WEEK_MS, (EPOCH_MONDAY_DAY + this.weekday) * DAY_MS + clock)
        return
      case 'monthly':
        this.#setMonthly(now)
        return
      default:
        assertNever(this.kind)
    }
  }

  /** Periods of a fixed length, one of which starts `offset` ms after the epoch. */
  #setFixed(now: number, length: number, offset: number): void {
    this.#start = Math.floor((now - offset) / length) * length + offset
    this.#end = this.#start + length
  }

  /** Months differ in length: ask the calendar (a reused Date, so no allocation). */
  #setMonthly(now: number): void {
    this.#scratch.setTime(now)
    const year = this.#scratch.getUTCFullYear()
    const month = this.#scratch.getUTCMonth()
    const inMonth = Date.UTC(year, month, this.day, this.hour, this.minute)
    const offset = inMonth <= now ? 0 : -1
    this.#start = Date.UTC(year, month + offset, this.day, this.hour, this.minute)
    this.#end = Date.UTC(year, month + offset + 1, this.day, this.hour, this.minute)
  }
}

interface ScheduleFields {
  hour: number
  minute: number
  weekday: number
  day: number
}

/**
 * Parse a `reset_schedule` value. Throws a RoxyError (`ROXY_E_CREDIT_SCHEDULE`)
 * whose message quotes the text and says what is expected; config validation
 * puts it on the key's line.
 * @example parseResetSchedule('weekly@Fri-17:30')
 */
export function parseResetSchedule(text: string): ResetSchedule {
  const trimmed = text.trim()
  const at = trimmed.indexOf('@')
  const kind = (at < 0 ? trimmed : trimmed.slice(0, at)).toLowerCase()
  const rest = at < 0 ? '' : trimmed.slice(at + 1)
  switch (kind) {
    case 'daily':
      return new ResetSchedule(text, kind, { ...parseClock(text, rest), weekday: -1, day: -1 })
    case 'weekly':
      return parseWeekly(text, rest)
    case 'monthly':
      return parseMonthly(text, rest)
    default:
      throw scheduleError(text, 'expected daily@HH:MM, weekly@Mon-HH:MM or monthly@DD-HH:MM (UTC)')
  }
}

/** The schedule used when a credit has none: the period's start at 00:00 UTC. */
export function defaultScheduleText(period: 'd' | 'w' | 'M'): string {
  return { d: 'daily@00:00', w: 'weekly@Mon-00:00', M: 'monthly@01-00:00' }[period]
}

/**
 * A warning when a rule's period letter and its schedule kind disagree
 * (`credit(100/d, ...)` with `weekly@...`), else undefined. Such a config is
 * accepted, as Roxy accepts it: the schedule decides when budgets reset.
 */
export function describeScheduleMismatch(
  period: 'd' | 'w' | 'M',
  schedule: ResetSchedule,
): string | undefined {
  const expected = KIND_OF_PERIOD[period]
  if (schedule.kind === expected) {
    return undefined
  }
  return (
    `credit period '/${period}' (${expected}) differs from reset_schedule "${schedule.text}" ` +
    `(${schedule.kind}); budgets reset on the schedule`
  )
}

/** `YYYY-MM-DDTHH:MM:SSZ` for a time in ms, as `{reset_time}` is written in messages. */
export function formatResetTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z'
}

function parseWeekly(text: string, rest: string): ResetSchedule {
  const dash = rest.indexOf('-')
  if (dash < 0) {
    throw scheduleError(text, 'expected weekly@DAY-HH:MM, e.g. weekly@Mon-00:00')
  }
  const name = rest.slice(0, dash).toLowerCase()
  let weekday = WEEKDAYS.indexOf(name)
  if (weekday < 0) {
    weekday = FULL_WEEKDAYS.indexOf(name)
  }
  if (weekday < 0) {
    throw scheduleError(
      text,
      `unknown weekday "${rest.slice(0, dash)}"; use Mon..Sun or Monday..Sunday`,
    )
  }
  const clock = parseClock(text, rest.slice(dash + 1))
  return new ResetSchedule(text, 'weekly', { ...clock, weekday, day: -1 })
}

function parseMonthly(text: string, rest: string): ResetSchedule {
  const dash = rest.indexOf('-')
  const dayText = dash < 0 ? '' : rest.slice(0, dash)
  if (!/^\d{1,2}$/.test(dayText)) {
    throw scheduleError(text, 'expected monthly@DD-HH:MM, e.g. monthly@01-00:00')
  }
  const day = Number(dayText)
  if (day < 1 || day > 28) {
    throw scheduleError(text, `day ${day} is outside 1..28 (the days every month has)`)
  }
  const clock = parseClock(text, rest.slice(dash + 1))
  return new ResetSchedule(text, 'monthly', { ...clock, weekday: -1, day })
}

function parseClock(text: string, clock: string): { hour: number; minute: number } {
  const match = /^(\d{1,2}):(\d{2})$/.exec(clock)
  if (!match) {
    throw scheduleError(text, `expected the time as HH:MM (UTC), got "${clock}"`)
  }
  const hour = Number(match[1])
  const minute = Number(match[2])
  if (hour > 23 || minute > 59) {
    throw scheduleError(text, `time ${clock} is not a valid HH:MM (00:00..23:59)`)
  }
  return { hour, minute }
}

function scheduleError(text: string, reason: string): RoxyError {
  return new RoxyError('ROXY_E_CREDIT_SCHEDULE', `reset_schedule "${text}": ${reason}`)
}

function assertNever(value: never): never {
  throw new Error(`unexpected schedule kind ${String(value)}`)
}
