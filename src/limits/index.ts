/**
 * The public seam of rate limits and credits (SPEC §6). The proxy builds one
 * LimitsEngine, starts its timers, and calls `check` per limited request;
 * config validation uses `parseResetSchedule` and `describeScheduleMismatch`.
 */
export type { CreditSpec, LimitOutcome, LimitRequest, RateLimitSpec } from './limit-request.ts'
export { createLimitOutcome } from './limit-request.ts'
export type { LimitsEngineOptions, LimitsStats } from './limits-engine.ts'
export {
  DEFAULT_CREDIT_MESSAGE,
  LimitsEngine,
  RATE_LIMIT_BODY,
  computeSoftDelay,
} from './limits-engine.ts'
export type { ScheduleKind } from './reset-schedule.ts'
export {
  ResetSchedule,
  defaultScheduleText,
  describeScheduleMismatch,
  formatResetTime,
  parseResetSchedule,
} from './reset-schedule.ts'
export type { CreditStore } from './credit-store.ts'
export { SqliteCreditStore, openCreditStore } from './credit-store.ts'
export type { CreditRecord } from './credit-ledger.ts'
export type { LimitsTimerOptions } from './limits-timers.ts'
export { startLimitsTimers } from './limits-timers.ts'
