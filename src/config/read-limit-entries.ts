/**
 * Reads `throttle:` and `credits:`, the per-rule settings of the limits engine, and checks
 * them against the rules they name: one entry per rule, soft limit below the hard limit of
 * the rule's term, a `credits` entry exactly for each rule with `credit(...)`.
 */

import type { SourcePosition } from '../errors.ts'
import { CONFIG_KEYS, MAX_DELAY_MS } from './config-keys.ts'
import { DEFAULT_CREDIT_MESSAGE, DEFAULT_MAX_DELAY_MS } from './default-config.ts'
import { findRule } from './read-rules.ts'
import type { RuleFacts, RuleIndex } from './read-rules.ts'
import { checkResetSchedule } from './reset-schedule-syntax.ts'
import type { RoxyConfig } from './schema.ts'
import type { Field, YamlReader } from './yaml-reader.ts'

/** Validates a reset schedule; throws an Error whose message says what is wrong. */
export type ScheduleParser = (text: string) => void

const MAX_COUNT = Number.MAX_SAFE_INTEGER

/** Fills `config.throttle`. */
export function readThrottle(
  reader: YamlReader,
  field: Field | undefined,
  config: RoxyConfig,
  index: RuleIndex,
): void {
  const seen = new Map<string, SourcePosition>()
  for (const item of reader.readList(field)) {
    const fields = reader.readEntry(item, CONFIG_KEYS.throttle)
    if (!fields) {
      continue
    }
    const { rule, facts } = readRuleRef(reader, item, fields.get('rule'), index, seen)
    const softField = fields.get('soft_limit')
    if (!softField || softField.node === null) {
      reader.report('ROXY_E_CONFIG_MISSING', item.at, `${item.path}.soft_limit is required`)
    }
    const softLimit = reader.readInt(softField, 0, 0, MAX_COUNT)
    const maxDelayMs = readMaxDelay(reader, fields)
    if (facts?.inspection && !facts.inspection.hasRateLimit) {
      const why = `rule '${rule}' has no rate_limit(...), so this throttle never applies`
      reader.warn(item.at, `${item.path}: ${why}`)
    }
    checkSoftLimit(reader, softField, softLimit, facts?.inspection?.rateLimit?.limit, 'rate_limit')
    config.throttle.push({ rule, softLimit, maxDelayMs })
  }
}

/** Fills `config.credits`, then reports every `credit(...)` rule left without an entry. */
export function readCredits(
  reader: YamlReader,
  field: Field | undefined,
  config: RoxyConfig,
  index: RuleIndex,
  parseSchedule: ScheduleParser = checkResetSchedule,
): void {
  const seen = new Map<string, SourcePosition>()
  for (const item of reader.readList(field)) {
    const fields = reader.readEntry(item, CONFIG_KEYS.credits)
    if (!fields) {
      continue
    }
    const { rule, facts } = readRuleRef(reader, item, fields.get('rule'), index, seen)
    if (facts?.inspection && !facts.inspection.hasCredit) {
      const why = `whose action has no credit(...); a credits entry needs a credit rule`
      const message = `${item.path}.rule names '${rule}', ${why}`
      reader.report('ROXY_E_CONFIG_REFERENCE', fields.get('rule')!.at, message)
    }
    const softField = fields.get('soft_limit')
    const softLimit = softField?.node ? reader.readInt(softField, 0, 0, MAX_COUNT) : undefined
    checkSoftLimit(reader, softField, softLimit, facts?.inspection?.credit?.limit, 'credit')
    const maxDelayMs = readMaxDelay(reader, fields)
    const resetSchedule = readSchedule(reader, item, fields.get('reset_schedule'), parseSchedule)
    const message = reader.readString(fields.get('message')) ?? DEFAULT_CREDIT_MESSAGE
    config.credits.push({ rule, softLimit, maxDelayMs, resetSchedule, message })
  }
  reportUncoveredCreditRules(reader, index, seen)
}

function readMaxDelay(reader: YamlReader, fields: Map<string, Field>): number {
  return reader.readInt(fields.get('max_delay_ms'), DEFAULT_MAX_DELAY_MS, 0, MAX_DELAY_MS)
}

function readRuleRef(
  reader: YamlReader,
  item: Field,
  field: Field | undefined,
  index: RuleIndex,
  seen: Map<string, SourcePosition>,
): { rule: string; facts?: RuleFacts } {
  const rule = reader.readRequiredString(field, `${item.path}.rule`, item.at).trim()
  if (!rule || !field) {
    return { rule }
  }
  const earlier = seen.get(rule)
  if (earlier) {
    const section = item.path.replace(/\[\d+\]$/, '')
    const message = `${section} already has an entry for rule '${rule}' on line ${earlier.line}`
    reader.report('ROXY_E_CONFIG_DUPLICATE', field.at, message)
    return { rule }
  }
  seen.set(rule, field.at)
  return { rule, facts: findRule(reader, field, rule, index) }
}

function checkSoftLimit(
  reader: YamlReader,
  field: Field | undefined,
  softLimit: number | undefined,
  hardLimit: number | undefined,
  term: string,
): void {
  if (!field || softLimit === undefined || hardLimit === undefined || softLimit < hardLimit) {
    return
  }
  const limit = `the rule's ${term} limit (${hardLimit})`
  const message = `${field.path} (${softLimit}) must be below ${limit}`
  reader.report('ROXY_E_CONFIG_CONFLICT', field.at, message)
}

function readSchedule(
  reader: YamlReader,
  item: Field,
  field: Field | undefined,
  parseSchedule: ScheduleParser,
): string {
  const text = reader.readRequiredString(field, `${item.path}.reset_schedule`, item.at).trim()
  if (!text || !field) {
    return text
  }
  try {
    parseSchedule(text)
  } catch (err) {
    const message = `${field.path}: ${(err as Error).message}`
    reader.report('ROXY_E_CONFIG_INVALID', field.at, message)
  }
  return text
}

function reportUncoveredCreditRules(
  reader: YamlReader,
  index: RuleIndex,
  covered: Map<string, SourcePosition>,
): void {
  for (const [name, facts] of index) {
    if (facts.inspection?.hasCredit && !covered.has(name)) {
      const fix = 'add one with its reset_schedule'
      const message = `rule '${name}' uses credit(...) but has no credits entry; ${fix}`
      reader.report('ROXY_E_CONFIG_MISSING', facts.nameAt, message)
    }
  }
}
