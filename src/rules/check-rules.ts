import type { HeaderEntry } from './header-changes.ts'
import { normalizeCondition } from './normalize-condition.ts'
import { parseRule } from './parse-rule.ts'
import type { ConditionDefinition, RuleDefinition } from './rule-definition.ts'
import type { RuleEntry } from './compile-rule.ts'

export interface RuleCheck {
  warnings: string[]
}

/** Methods a lower-case method() most likely meant; methods are case-sensitive (RFC 9110 §9.1). */
const STANDARD_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
])

interface ParsedEntry {
  entry: RuleEntry
  index: number
  rule: RuleDefinition
}

/**
 * Load-time warnings for `roxy check` (rules that do not parse are skipped:
 * the config loader reports them as errors):
 * - a rule after a ternary is unreachable;
 * - a rule with the same condition as an earlier one never decides;
 * - method(get) never matches GET;
 * - a mangle rule no headers entry names, and a headers entry naming a rule without mangle.
 */
export function checkRules(
  rules: readonly RuleEntry[],
  headers: readonly HeaderEntry[] = [],
): RuleCheck {
  const parsed = rules.flatMap((entry, index) => parseQuietly(entry, index))
  const warnings: string[] = []
  warnUnreachableAndDuplicates(parsed, warnings)
  for (const p of parsed) {
    warnMethodCase(p, p.rule.condition, warnings)
  }
  warnHeaderEntries(parsed, headers, warnings)
  return { warnings }
}

function parseQuietly(entry: RuleEntry, index: number): ParsedEntry[] {
  try {
    return [{ entry, index, rule: parseRule(entry.rule, entry.name) }]
  } catch {
    return []
  }
}

function label(p: ParsedEntry): string {
  return `rule ${JSON.stringify(p.entry.name)} (#${p.index + 1})`
}

function warnUnreachableAndDuplicates(parsed: readonly ParsedEntry[], warnings: string[]): void {
  let ternary: ParsedEntry | undefined
  const seen = new Map<string, ParsedEntry>()
  for (const p of parsed) {
    if (ternary !== undefined) {
      warnings.push(`${label(p)} is unreachable: ${label(ternary)} is a ternary and always decides`)
      continue
    }
    const key = normalizeCondition(p.rule.condition)
    const earlier = seen.get(key)
    if (earlier !== undefined) {
      warnings.push(
        `${label(p)} has the same condition as ${label(earlier)}, which decides first: it never decides`,
      )
    } else {
      seen.set(key, p)
    }
    if (p.rule.else !== null) {
      ternary = p
    }
  }
}

function warnMethodCase(p: ParsedEntry, def: ConditionDefinition, warnings: string[]): void {
  if (def.type === 'method') {
    const upper = def.method.toUpperCase()
    if (upper !== def.method && STANDARD_METHODS.has(upper)) {
      warnings.push(
        `${label(p)}: method(${def.method}) never matches ${upper}: methods are case-sensitive`,
      )
    }
  } else if (def.type === 'not') {
    warnMethodCase(p, def.operand, warnings)
  } else if (def.type === 'and' || def.type === 'or') {
    def.operands.forEach((operand) => warnMethodCase(p, operand, warnings))
  }
}

function hasMangle(rule: RuleDefinition): boolean {
  return [...rule.then, ...(rule.else ?? [])].some((t) => t.type === 'mangle')
}

function warnHeaderEntries(
  parsed: readonly ParsedEntry[],
  headers: readonly HeaderEntry[],
  warnings: string[],
): void {
  const byName = new Map(parsed.map((p) => [p.entry.name, p]))
  headers.forEach((entry, i) => {
    for (const name of entry.rules) {
      const p = byName.get(name)
      if (p !== undefined && !hasMangle(p.rule)) {
        warnings.push(
          `headers entry #${i + 1} names ${label(p)}, which has no mangle action: its changes never apply`,
        )
      }
    }
  })
  for (const p of parsed) {
    if (hasMangle(p.rule) && !headers.some((entry) => entry.rules.includes(p.entry.name))) {
      warnings.push(
        `${label(p)} has a mangle action but no headers entry names it: it changes nothing`,
      )
    }
  }
}
