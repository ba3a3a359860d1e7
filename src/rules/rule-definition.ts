/**
 * The plain data a rule parses to. The parser returns these objects and
 * nothing else; the compiler turns them into closures. Every node carries a
 * kebab-case `type` that matches the word written in the rule.
 *
 *   host("*.example.com") && !method(GET) = rate_limit(10/s, ip) + mangle : block
 *
 *   { type: 'rule',
 *     condition: { type: 'and', operands: [
 *       { type: 'host', pattern: '*.example.com' },
 *       { type: 'not', operand: { type: 'method', method: 'GET' } } ] },
 *     then: [ { type: 'rate-limit', limit: 10, windowSecs: 1, key: [ { type: 'ip' } ] },
 *             { type: 'mangle' } ],
 *     else: [ { type: 'block' } ] }
 */

/** `host(glob)`: the request host, compared in lower case. */
export interface HostCondition {
  type: 'host'
  pattern: string
}

/** `path(glob)`: the path without its query string, case-sensitive. */
export interface PathCondition {
  type: 'path'
  pattern: string
}

/** `method(TOKEN)`: the method exactly as sent. */
export interface MethodCondition {
  type: 'method'
  method: string
}

/** `header("Name")`: the header is present (name case-insensitive). */
export interface HeaderPresentCondition {
  type: 'header-present'
  name: string
}

/** `header("Name:value")`: some value of the header equals `value` exactly. */
export interface HeaderEqualsCondition {
  type: 'header-equals'
  name: string
  value: string
}

/** `header("Name~glob")`: some value of the header matches the glob. */
export interface HeaderGlobCondition {
  type: 'header-glob'
  name: string
  pattern: string
}

export interface NotCondition {
  type: 'not'
  operand: ConditionDefinition
}

/** `a && b && c`: one node per chain, operands in written order. */
export interface AndCondition {
  type: 'and'
  operands: ConditionDefinition[]
}

/** `a || b || c`: one node per chain, operands in written order. */
export interface OrCondition {
  type: 'or'
  operands: ConditionDefinition[]
}

export type MatcherDefinition =
  | HostCondition
  | PathCondition
  | MethodCondition
  | HeaderPresentCondition
  | HeaderEqualsCondition
  | HeaderGlobCondition

export type ConditionDefinition = MatcherDefinition | NotCondition | AndCondition | OrCondition

/** One part of a limit key: `header(NAME)`, `path(*)`, `host(*)` or `ip`. */
export type KeyExtractor =
  { type: 'header'; name: string } | { type: 'path' } | { type: 'host' } | { type: 'ip' }

/** Shared with src/limits (BRIEF-INTERFACES): a sliding-window limit. */
export interface RateLimitTerm {
  type: 'rate-limit'
  limit: number
  windowSecs: 1 | 60 | 3600
}

/** Shared with src/limits (BRIEF-INTERFACES): a budget per period. */
export interface CreditTerm {
  type: 'credit'
  limit: number
  period: 'd' | 'w' | 'M'
}

export interface RateLimitDefinition extends RateLimitTerm {
  key: KeyExtractor[]
}

export interface CreditDefinition extends CreditTerm {
  key: KeyExtractor[]
}

export type TermDefinition =
  { type: 'block' } | { type: 'pass' } | { type: 'mangle' } | RateLimitDefinition | CreditDefinition

/**
 * A whole rule. `else` is null unless the rule is a ternary (`expr = a : b`),
 * which always decides.
 */
export interface RuleDefinition {
  type: 'rule'
  condition: ConditionDefinition
  then: TermDefinition[]
  else: TermDefinition[] | null
}

/** Report a case that a discriminated switch forgot; the type checker proves it unreachable. */
export function assertNever(value: never): never {
  throw new Error(`unexpected variant ${JSON.stringify(value)}`)
}
