import { RoxyError } from '../errors.ts'
import { parseLogLevel } from '../observe/log.ts'
import type { LogLevel } from '../observe/log.ts'
import { compileTerms } from './compile-action.ts'
import type { ActionTerm } from './compile-action.ts'
import { compileCondition } from './compile-condition.ts'
import type { Matcher } from './compile-condition.ts'
import { RuleDecision } from './decision.ts'
import type { HeaderEntry } from './header-changes.ts'
import { parseRule } from './parse-rule.ts'
import { listReferencedHeaders } from './referenced-headers.ts'
import type { RuleDefinition, TermDefinition } from './rule-definition.ts'

/** One `rules:` item of the config, in its YAML shape. */
export interface RuleEntry {
  name: string
  rule: string
  /** trace, debug, info, warn, error or off, any case. @default 'info' */
  log_level?: string
}

/** One side of a rule: its terms and the decision it stands for before header changes. */
export interface RuleBranch {
  readonly terms: readonly ActionTerm[]
  readonly decision: RuleDecision
  readonly block: boolean
  readonly mangle: boolean
}

export interface CompiledRule {
  readonly name: string
  readonly index: number
  readonly logLevel: LogLevel
  readonly text: string
  readonly definition: RuleDefinition
  readonly condition: Matcher
  readonly then: RuleBranch
  /** Null unless the rule is a ternary. */
  readonly else: RuleBranch | null
  readonly isTernary: boolean
  /** Indexes of the headers entries naming this rule, ascending. */
  readonly entries: Int32Array
}

/**
 * Compile the config's rules in order. Throws RuleSyntaxError for a rule that
 * does not parse and RoxyError ROXY_E_CONFIG_INVALID for a duplicate name, an
 * unknown log level or a headers entry naming no rule (the config loader
 * reports these first, with lines; this is the backstop).
 */
export function compileRules(
  entries: readonly RuleEntry[],
  headers: readonly HeaderEntry[],
): CompiledRule[] {
  const names = new Set<string>()
  for (const entry of entries) {
    if (names.has(entry.name)) {
      throw new RoxyError(
        'ROXY_E_CONFIG_INVALID',
        `rule name ${JSON.stringify(entry.name)} is used twice`,
      )
    }
    names.add(entry.name)
  }
  headers.forEach((entry, i) => checkHeaderEntry(entry, i, names))
  return entries.map((entry, index) => compileRule(entry, index, headers))
}

function checkHeaderEntry(entry: HeaderEntry, index: number, names: ReadonlySet<string>): void {
  for (const name of entry.rules) {
    if (!names.has(name)) {
      const message = `headers entry #${index + 1} names rule ${JSON.stringify(name)}, which does not exist`
      throw new RoxyError('ROXY_E_CONFIG_INVALID', message)
    }
  }
}

function compileRule(
  entry: RuleEntry,
  index: number,
  headers: readonly HeaderEntry[],
): CompiledRule {
  const definition = parseRule(entry.rule, entry.name)
  const logLevel = readLogLevel(entry)
  const loggedHeaderNames = listReferencedHeaders(definition)
  const rule = { name: entry.name, index, logLevel }
  const branch = (terms: TermDefinition[], side: 'then' | 'else'): RuleBranch => {
    const compiled = compileTerms(terms)
    const decision = new RuleDecision({ rule, branch: side, terms: compiled, loggedHeaderNames })
    return { terms: compiled, decision, block: decision.block, mangle: decision.mangle }
  }
  const entries = headers.flatMap((h, i) => (h.rules.includes(entry.name) ? [i] : []))
  return {
    ...rule,
    text: entry.rule,
    definition,
    condition: compileCondition(definition.condition),
    then: branch(definition.then, 'then'),
    else: definition.else === null ? null : branch(definition.else, 'else'),
    isTernary: definition.else !== null,
    entries: Int32Array.from(entries),
  }
}

function readLogLevel(entry: RuleEntry): LogLevel {
  if (entry.log_level === undefined) {
    return 'info'
  }
  const level = parseLogLevel(entry.log_level)
  if (level === undefined) {
    const message = `rule ${JSON.stringify(entry.name)}: log_level ${JSON.stringify(entry.log_level)} is not one of trace, debug, info, warn, error, off`
    throw new RoxyError('ROXY_E_CONFIG_INVALID', message)
  }
  return level
}
