/**
 * A syntax check of `credits[].reset_schedule`, used when the loader is not given the real
 * schedule parser (src/limits) through `LoadOptions.parseSchedule`:
 *
 *   daily@HH:MM | weekly@DAY-HH:MM | monthly@DD-HH:MM     (UTC; DD 1..28)
 *   DAY = Mon..Sun or Monday..Sunday, any case
 */

const SCHEDULE = /^(daily|weekly|monthly)@(?:([A-Za-z]+|\d{1,2})-)?(\d{1,2}):(\d{2})$/
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
const FULL_DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']

/** @throws Error naming the expected form when `text` is not a valid schedule. */
export function checkResetSchedule(text: string): void {
  const match = SCHEDULE.exec(text.trim())
  if (!match) {
    throw new Error(
      `expected 'daily@HH:MM', 'weekly@Mon-HH:MM' or 'monthly@DD-HH:MM', got '${text}'`,
    )
  }
  const [, period, day, hour, minute] = match
  checkTime(Number(hour), Number(minute))
  checkDay(period, day)
}

function checkTime(hour: number, minute: number): void {
  if (hour > 23 || minute > 59) {
    throw new Error(`time must be HH:MM from 00:00 to 23:59`)
  }
}

function checkDay(period: string, day: string | undefined): void {
  if (period === 'daily') {
    if (day !== undefined) {
      throw new Error(`'daily@' takes only a time, as 'daily@00:00'`)
    }
    return
  }
  if (period === 'weekly') {
    const lower = day?.toLowerCase() ?? ''
    if (!DAYS.includes(lower) && !FULL_DAYS.includes(lower)) {
      throw new Error(`'weekly@' needs a day Mon..Sun, as 'weekly@Mon-09:00'`)
    }
    return
  }
  const date = /^\d+$/.test(day ?? '') ? Number(day) : 0
  if (date < 1 || date > 28) {
    throw new Error(`'monthly@' needs a day of month 1..28, as 'monthly@01-00:00'`)
  }
}
