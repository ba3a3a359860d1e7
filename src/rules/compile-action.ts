import { compileLimitKey } from './limit-key.ts'
import type { LimitKey } from './limit-key.ts'
import type { CreditTerm, RateLimitTerm, TermDefinition } from './rule-definition.ts'

/**
 * Compiled action terms. block and pass are final: nothing after them runs
 * (except, for pass, the header changes of later mangle rules). Limit terms
 * keep the RateLimitTerm / CreditTerm shape src/limits expects and add their key.
 */
export interface BlockAction {
  readonly type: 'block'
  readonly final: true
  explain(): string
}

export interface PassAction {
  readonly type: 'pass'
  readonly final: true
  explain(): string
}

export interface MangleAction {
  readonly type: 'mangle'
  readonly final: false
  explain(): string
}

export interface RateLimitAction extends RateLimitTerm {
  readonly final: false
  readonly key: LimitKey
  explain(): string
}

export interface CreditAction extends CreditTerm {
  readonly final: false
  readonly key: LimitKey
  explain(): string
}

export type ActionTerm = BlockAction | PassAction | MangleAction | RateLimitAction | CreditAction

const BLOCK: BlockAction = { type: 'block', final: true, explain: () => 'block (answer 403)' }
const PASS: PassAction = { type: 'pass', final: true, explain: () => 'pass (forward as is)' }
const MANGLE: MangleAction = {
  type: 'mangle',
  final: false,
  explain: () => 'mangle (apply the header changes of its headers entries)',
}

const WINDOW_WORDS: Record<RateLimitTerm['windowSecs'], string> = {
  1: 'second',
  60: 'minute',
  3600: 'hour',
}
const PERIOD_WORDS: Record<CreditTerm['period'], string> = { d: 'day', w: 'week', M: 'month' }

export function compileTerms(terms: readonly TermDefinition[]): ActionTerm[] {
  return terms.map(compileTerm)
}

function compileTerm(term: TermDefinition): ActionTerm {
  switch (term.type) {
    case 'block':
      return BLOCK
    case 'pass':
      return PASS
    case 'mangle':
      return MANGLE
    case 'rate-limit': {
      const key = compileLimitKey(term.key)
      const text = `rate_limit ${term.limit} per ${WINDOW_WORDS[term.windowSecs]}, key ${key.explain()}`
      return {
        type: 'rate-limit',
        limit: term.limit,
        windowSecs: term.windowSecs,
        final: false,
        key,
        explain: () => text,
      }
    }
    case 'credit': {
      const key = compileLimitKey(term.key)
      const text = `credit ${term.limit} per ${PERIOD_WORDS[term.period]}, key ${key.explain()}`
      return {
        type: 'credit',
        limit: term.limit,
        period: term.period,
        final: false,
        key,
        explain: () => text,
      }
    }
  }
}

/** `a + b` of the terms' explanations. */
export function explainTerms(terms: readonly ActionTerm[]): string {
  return terms.map((t) => t.explain()).join(' + ')
}
