import type {
  CreditDefinition,
  KeyExtractor,
  RateLimitDefinition,
  TermDefinition,
} from './rule-definition.ts'
import { CH, listOr } from './rule-scanner.ts'
import type { RuleScanner } from './rule-scanner.ts'
import { checkToken, readArgument } from './parse-condition.ts'

/** Largest N in rate_limit(N/unit) and credit(N/period). */
export const MAX_LIMIT = 1_000_000_000

const ACTION = 'an action (block, pass, mangle, rate_limit or credit)'
const KEY = 'a key (header(NAME), path(*), host(*) or ip)'
const COMBINABLE = ['rate_limit', 'credit', 'mangle'] as const
const RATE_UNITS: Record<string, 1 | 60 | 3600> = { s: 1, m: 60, h: 3600 }
const CREDIT_PERIODS: Record<string, 'd' | 'w' | 'M'> = { d: 'd', w: 'w', M: 'M' }

/**
 * action := term [ "+" term [ "+" term ] ]
 * rate_limit, credit and mangle combine, each at most once; block and pass stand alone.
 */
export function parseAction(s: RuleScanner): TermDefinition[] {
  const terms: TermDefinition[] = []
  do {
    terms.push(parseTerm(s, terms))
  } while (canExtend(terms) && s.eat(CH.PLUS))
  return terms
}

/** Can another `+ term` follow these terms? */
export function canExtend(terms: readonly TermDefinition[]): boolean {
  const last = terms[terms.length - 1]
  return last.type !== 'block' && last.type !== 'pass' && terms.length < COMBINABLE.length
}

/** Why a '+' may not follow these terms, for the error hint. */
export function explainNoExtend(terms: readonly TermDefinition[]): string {
  return canExtend(terms) || terms.length === COMBINABLE.length
    ? 'rate_limit, credit and mangle each appear at most once'
    : 'block and pass cannot be combined with other actions'
}

function parseTerm(s: RuleScanner, before: readonly TermDefinition[]): TermDefinition {
  s.peek()
  const start = s.pos
  const word = s.readWord().toLowerCase()
  checkCombination(s, start, word, before)
  switch (word) {
    case 'block':
    case 'pass':
    case 'mangle':
      return { type: word }
    case 'rate_limit':
      return parseRateLimit(s)
    case 'credit':
      return parseCredit(s)
    default:
      return s.failAt(start, before.length === 0 ? ACTION : afterPlus(before))
  }
}

function checkCombination(
  s: RuleScanner,
  start: number,
  word: string,
  before: readonly TermDefinition[],
): void {
  if (before.length === 0) {
    return
  }
  if (word === 'block' || word === 'pass') {
    s.failAt(start, afterPlus(before), 'block and pass cannot be combined with other actions')
  }
  if (before.some((term) => termWord(term) === word)) {
    s.failAt(start, afterPlus(before), `${word} appears twice; each action appears at most once`)
  }
}

/** The combinable words not used yet, as an "expected" phrase. */
function afterPlus(before: readonly TermDefinition[]): string {
  const left = COMBINABLE.filter((word) => !before.some((term) => termWord(term) === word))
  return `${listOr(left)} after '+'`
}

function termWord(term: TermDefinition): string {
  return term.type === 'rate-limit' ? 'rate_limit' : term.type
}

/** rate_limit(N "/" (s|m|h) "," key) */
function parseRateLimit(s: RuleScanner): RateLimitDefinition {
  s.expect(CH.LPAREN, "'(' after rate_limit")
  const limit = parseLimit(s)
  s.expect(CH.SLASH, "'/' and a unit after the number, as in 10/s")
  const unit = parseUnit(s, RATE_UNITS, 's, m or h (second, minute, hour)', {
    M: 'M is months, for credit; minutes are m',
  })
  const key = parseKeyTail(s)
  return { type: 'rate-limit', limit, windowSecs: unit, key }
}

/** credit(N "/" (d|w|M) "," key) */
function parseCredit(s: RuleScanner): CreditDefinition {
  s.expect(CH.LPAREN, "'(' after credit")
  const limit = parseLimit(s)
  s.expect(CH.SLASH, "'/' and a period after the number, as in 1000/d")
  const period = parseUnit(s, CREDIT_PERIODS, 'd, w or M (day, week, month)', {
    m: 'm is minutes, for rate_limit; months are M',
  })
  const key = parseKeyTail(s)
  return { type: 'credit', limit, period, key }
}

function parseLimit(s: RuleScanner): number {
  const expected = `a whole number from 1 to ${MAX_LIMIT}`
  s.peek()
  const start = s.pos
  const digits = s.readDigits()
  const value = Number(digits)
  if (digits === '' || value < 1 || value > MAX_LIMIT) {
    s.failAt(start, expected)
  }
  return value
}

/** A unit letter, case-sensitive (m is minute, M is month). */
function parseUnit<T>(
  s: RuleScanner,
  units: Record<string, T>,
  expected: string,
  hints: Record<string, string>,
): T {
  s.peek()
  const start = s.pos
  const word = s.readWord()
  if (Object.hasOwn(units, word)) {
    return units[word]
  }
  const hint =
    hints[word] ??
    (Object.hasOwn(units, word.toLowerCase()) ? 'units are case-sensitive' : undefined)
  return s.failAt(start, expected, hint)
}

/** "," key ")" */
function parseKeyTail(s: RuleScanner): KeyExtractor[] {
  s.expect(CH.COMMA, "',' and a key after the unit")
  const key = [parseExtractor(s)]
  while (s.eat(CH.PLUS)) {
    key.push(parseExtractor(s))
  }
  s.expect(CH.RPAREN, "'+' and another key part, or ')'")
  return key
}

/** extractor := header(NAME) | path(*) | host(*) | ip */
function parseExtractor(s: RuleScanner): KeyExtractor {
  s.peek()
  const start = s.pos
  const word = s.readWord().toLowerCase()
  switch (word) {
    case 'ip':
      return { type: 'ip' }
    case 'header': {
      const arg = readArgument(s, 'header', 'a header name')
      checkToken(s, arg.value, arg.column, 'a header name')
      return { type: 'header', name: arg.value }
    }
    case 'path':
    case 'host': {
      const arg = readArgument(s, word, "'*'")
      if (arg.value !== '*') {
        s.failAt(arg.column - 1, "'*'", `in a key, ${word}(*) stands for the whole ${word}`)
      }
      return { type: word }
    }
    default:
      return s.failAt(start, KEY)
  }
}
