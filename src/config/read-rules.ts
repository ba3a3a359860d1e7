/**
 * Reads `rules:` and checks each rule text through the injected inspector, then offers the
 * lookups that `headers:`, `throttle:` and `credits:` need to check their references.
 */

import { parseLogLevel } from '../observe/log.ts'
import type { SourcePosition } from '../errors.ts'
import { CONFIG_KEYS } from './config-keys.ts'
import { suggestClosest } from './did-you-mean.ts'
import type { RuleInspection, RuleInspector } from './rule-inspection.ts'
import type { RoxyConfig } from './schema.ts'
import type { Field, YamlReader } from './yaml-reader.ts'

/** A rule text the inspector accepted. */
export type AcceptedRule = Extract<RuleInspection, { ok: true }>

/** What the other sections need to know about each rule, by name. */
export interface RuleFacts {
  /** Where the rule's name is, for "... has no credits entry". */
  nameAt: SourcePosition
  /** Undefined when the rule text was rejected (already reported). */
  inspection?: AcceptedRule
}

/** Rules by name, first definition wins (a duplicate name is reported). */
export type RuleIndex = Map<string, RuleFacts>

/** Fills `config.rules` and returns what each rule is; problems go to the reader. */
export function readRules(
  reader: YamlReader,
  field: Field | undefined,
  config: RoxyConfig,
  inspectRule: RuleInspector,
): RuleIndex {
  const index: RuleIndex = new Map()
  for (const item of reader.readList(field)) {
    const fields = reader.readEntry(item, CONFIG_KEYS.rules)
    if (!fields) {
      continue
    }
    const name = readRuleName(reader, item, fields.get('name'), index)
    const ruleField = fields.get('rule')
    const rule = reader.readRequiredString(ruleField, `${item.path}.rule`, item.at)
    const logLevel = readLogLevel(reader, fields.get('log_level'))
    const inspection = rule.trim()
      ? inspect(reader, ruleField!, name, rule, inspectRule)
      : undefined
    const textAt = ruleField ? reader.locateInText(ruleField, 1) : item.at
    config.rules.push({ name, rule, logLevel, textAt })
    if (name && !index.has(name)) {
      index.set(name, { nameAt: fields.get('name')!.at, inspection })
    }
  }
  return index
}

/**
 * Checks that `field` names an existing rule; reports an unknown name with a suggestion.
 * Returns the rule's facts, or undefined when it does not exist.
 */
export function findRule(
  reader: YamlReader,
  field: Field,
  name: string,
  index: RuleIndex,
): RuleFacts | undefined {
  const facts = index.get(name)
  if (!facts) {
    const guess = suggestClosest(name, [...index.keys()])
    const hint = guess ? ` (did you mean '${guess}'?)` : ''
    const message = `${field.path} names rule '${name}', which does not exist${hint}`
    reader.report('ROXY_E_CONFIG_REFERENCE', field.at, message)
  }
  return facts
}

function readRuleName(
  reader: YamlReader,
  item: Field,
  field: Field | undefined,
  index: RuleIndex,
): string {
  const name = reader.readRequiredString(field, `${item.path}.name`, item.at).trim()
  const earlier = index.get(name)
  if (name && earlier) {
    const message = `rule name '${name}' is already used on line ${earlier.nameAt.line}`
    reader.report('ROXY_E_CONFIG_DUPLICATE', field!.at, message)
  }
  return name
}

function readLogLevel(reader: YamlReader, field: Field | undefined) {
  const text = reader.readString(field)
  if (text === undefined) {
    return 'info'
  }
  const level = parseLogLevel(text)
  if (!level) {
    const levels = 'trace, debug, info, warn, error, off'
    const message = `${field!.path} must be one of ${levels}; got '${text}'`
    reader.report('ROXY_E_CONFIG_INVALID', field!.at, message)
  }
  return level ?? 'info'
}

function inspect(
  reader: YamlReader,
  field: Field,
  name: string,
  rule: string,
  inspectRule: RuleInspector,
): AcceptedRule | undefined {
  let result: RuleInspection
  try {
    result = inspectRule(rule)
  } catch (err) {
    // The inspector must not throw (SPEC §5); if it does, this load still reports everything.
    result = { ok: false, message: `the rule parser failed: ${(err as Error).message}`, column: 1 }
  }
  if (result.ok) {
    return result
  }
  const at = reader.locateInText(field, result.column)
  const message = `rule '${name || field.path}': ${result.message}`
  reader.report('ROXY_E_RULE_SYNTAX', at, message)
  return undefined
}
