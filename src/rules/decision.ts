import type { LogLevel } from '../observe/log.ts'
import type { ActionTerm, CreditAction, RateLimitAction } from './compile-action.ts'
import { explainTerms } from './compile-action.ts'
import type { HeaderChange } from './header-changes.ts'
import { explainHeaderChanges } from './header-changes.ts'
import { collectHeaderValues, toLowerAscii } from './rule-request.ts'
import type { RuleRequest } from './rule-request.ts'
import { REDACTED, isSecretHeader } from './secret-headers.ts'

/** The rule that decided: enough for the log line and the per-rule counters. */
export interface DecidingRule {
  readonly name: string
  /** 0-based position in the config's `rules:` list. */
  readonly index: number
  readonly logLevel: LogLevel
}

/**
 * What the rules decided for one request. Decisions are immutable and shared:
 * a RuleSet makes one per rule branch at compile time (and one per set of
 * header changes on first use), so evaluating allocates nothing. Anything
 * that depends on the request is a method taking the request.
 *
 * How the proxy reads it:
 *   block                      -> 403, nothing else (no limits, no changes)
 *   rateLimit / credit set     -> ask src/limits with buildKey(req), headerKeyed;
 *                                 a 429 stops everything
 *   otherwise (or allowed)     -> forward, after applying headerChanges
 *   rule === null              -> no rule matched: forward unchanged
 */
export interface Decision {
  readonly rule: DecidingRule | null
  /** Which side of the rule decided: `else` only for a ternary whose condition failed. */
  readonly branch: 'then' | 'else' | null
  readonly terms: readonly ActionTerm[]
  readonly block: boolean
  readonly rateLimit: RateLimitAction | null
  readonly credit: CreditAction | null
  /** The deciding branch itself holds `mangle`. */
  readonly mangle: boolean
  /** Some limit term's key holds a header value (apply the per-IP baseline). */
  readonly headerKeyed: boolean
  /**
   * Changes to apply when the request is forwarded, in config order: from
   * every mangle rule whose condition held, the deciding one and later ones.
   */
  readonly headerChanges: readonly HeaderChange[]
  /** Header names the deciding rule references (at most 8), for the log line. */
  readonly loggedHeaderNames: readonly string[]
  /**
   * The counter key of the first limit term (rate_limit, else credit), '' when
   * there is none. A composite whose two terms have different keys: use
   * `rateLimit.key.build(req)` and `credit.key.build(req)`.
   */
  buildKey(req: RuleRequest): string
  /** Values of loggedHeaderNames present in `req`; secret ones are `[redacted]`. Allocates. */
  loggedHeaders(req: RuleRequest): Record<string, string>
  /** e.g. `rule "api" (#2, then): rate_limit 10 per second, key ip`. */
  explain(): string
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

export interface DecisionParts {
  rule: DecidingRule | null
  branch: 'then' | 'else' | null
  terms: readonly ActionTerm[]
  loggedHeaderNames: readonly string[]
}

export class RuleDecision implements Decision {
  readonly rule: DecidingRule | null
  readonly branch: 'then' | 'else' | null
  readonly terms: readonly ActionTerm[]
  readonly block: boolean
  readonly rateLimit: RateLimitAction | null
  readonly credit: CreditAction | null
  readonly mangle: boolean
  readonly headerKeyed: boolean
  readonly headerChanges: readonly HeaderChange[]
  readonly loggedHeaderNames: readonly string[]
  readonly #loggedLower: readonly string[]
  /** Decisions that add one more headers entry, by entry index (see RuleSet). */
  readonly #children = new Map<number, RuleDecision>()

  constructor(parts: DecisionParts, headerChanges: readonly HeaderChange[] = []) {
    this.rule = parts.rule
    this.branch = parts.branch
    this.terms = parts.terms
    this.block = parts.terms.some((t) => t.type === 'block')
    this.rateLimit =
      (parts.terms.find((t) => t.type === 'rate-limit') as RateLimitAction | undefined) ?? null
    this.credit = (parts.terms.find((t) => t.type === 'credit') as CreditAction | undefined) ?? null
    this.mangle = parts.terms.some((t) => t.type === 'mangle')
    this.headerKeyed =
      (this.rateLimit?.key.headerKeyed ?? false) || (this.credit?.key.headerKeyed ?? false)
    this.headerChanges = headerChanges
    this.loggedHeaderNames = parts.loggedHeaderNames
    this.#loggedLower = parts.loggedHeaderNames.map(toLowerAscii)
  }

  buildKey(req: RuleRequest): string {
    const term = this.rateLimit ?? this.credit
    return term === null ? '' : term.key.build(req)
  }

  loggedHeaders(req: RuleRequest): Record<string, string> {
    if (this.#loggedLower.length === 0) {
      return NO_HEADERS
    }
    const out: Record<string, string> = {}
    this.#loggedLower.forEach((lower, i) => {
      const values = collectHeaderValues(req.headers, lower)
      if (values.length > 0) {
        out[this.loggedHeaderNames[i]] = isSecretHeader(lower) ? REDACTED : values.join(', ')
      }
    })
    return out
  }

  explain(): string {
    if (this.rule === null) {
      return 'no rule matched: forward'
    }
    const where = `rule ${JSON.stringify(this.rule.name)} (#${this.rule.index + 1}, ${this.branch})`
    const changes =
      this.headerChanges.length > 0 ? `; headers: ${explainHeaderChanges(this.headerChanges)}` : ''
    return `${where}: ${explainTerms(this.terms)}${changes}`
  }

  /**
   * This decision plus the changes of headers entry `entry`, made once and
   * kept while `budget.left` allows (the cache is bounded per RuleSet).
   */
  withEntry(
    entry: number,
    changes: readonly HeaderChange[],
    budget: { left: number },
  ): RuleDecision {
    const known = this.#children.get(entry)
    if (known !== undefined) {
      return known
    }
    const parts = {
      rule: this.rule,
      branch: this.branch,
      terms: this.terms,
      loggedHeaderNames: this.loggedHeaderNames,
    }
    const child = new RuleDecision(parts, [...this.headerChanges, ...changes])
    if (budget.left > 0) {
      budget.left--
      this.#children.set(entry, child)
    }
    return child
  }
}

/** The decision when no rule matched: forward, no changes. */
export const NO_RULE_DECISION: Decision = new RuleDecision({
  rule: null,
  branch: null,
  terms: [],
  loggedHeaderNames: [],
})
