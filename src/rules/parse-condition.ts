import type { ConditionDefinition, MatcherDefinition } from './rule-definition.ts'
import { CH, findNonToken } from './rule-scanner.ts'
import type { RuleScanner, ScannedString } from './rule-scanner.ts'
import { parseGlob } from './parse-glob.ts'

/** Parentheses and `!` nest at most this deep (SPEC §5). */
export const MAX_NESTING = 32

const CONDITION = "a condition (host, path, method, header, '!' or '(')"
const TOKEN_CHARS = "letters, digits and !#$%&'*+-.^_`|~"

/**
 * expr  := and ( "||" and )*
 * and   := unary ( "&&" unary )*
 * unary := "!" unary | "(" expr ")" | matcher
 */
export function parseCondition(s: RuleScanner): ConditionDefinition {
  return parseOr(s, 0)
}

function parseOr(s: RuleScanner, depth: number): ConditionDefinition {
  const first = parseAnd(s, depth)
  if (!s.eatDouble(CH.PIPE)) {
    return first
  }
  const operands = [first, parseAnd(s, depth)]
  while (s.eatDouble(CH.PIPE)) {
    operands.push(parseAnd(s, depth))
  }
  return { type: 'or', operands }
}

function parseAnd(s: RuleScanner, depth: number): ConditionDefinition {
  const first = parseUnary(s, depth)
  if (!s.eatDouble(CH.AMP)) {
    return first
  }
  const operands = [first, parseUnary(s, depth)]
  while (s.eatDouble(CH.AMP)) {
    operands.push(parseUnary(s, depth))
  }
  return { type: 'and', operands }
}

function parseUnary(s: RuleScanner, depth: number): ConditionDefinition {
  const c = s.peek()
  if (c !== CH.BANG && c !== CH.LPAREN) {
    return parseMatcher(s)
  }
  if (depth >= MAX_NESTING) {
    s.fail(`at most ${MAX_NESTING} levels of '(' and '!'`, 'simplify the condition')
  }
  s.eat(c)
  if (c === CH.BANG) {
    return { type: 'not', operand: parseUnary(s, depth + 1) }
  }
  const inner = parseOr(s, depth + 1)
  s.expect(CH.RPAREN, "'&&', '||' or ')'")
  return inner
}

/** matcher := host(STR) | path(STR) | method(WORD) | header(STR) */
function parseMatcher(s: RuleScanner): MatcherDefinition {
  s.peek()
  const start = s.pos
  const word = s.readWord()
  switch (word.toLowerCase()) {
    case 'host':
      return { type: 'host', pattern: readPattern(s, 'host', true) }
    case 'path':
      return { type: 'path', pattern: readPattern(s, 'path', false) }
    case 'method':
      return { type: 'method', method: readMethod(s) }
    case 'header':
      return readHeaderCondition(s)
    default:
      return s.failAt(start, CONDITION)
  }
}

/** `(` STR `)`, with a hint when a bare word runs into a character that needs quotes. */
export function readArgument(s: RuleScanner, keyword: string, expected: string): ScannedString {
  s.expect(CH.LPAREN, `'(' after ${keyword}`)
  const arg = s.readString(expected)
  const next = s.text.charCodeAt(s.pos)
  const needsQuotes = !arg.quoted && s.pos < s.text.length && next !== CH.RPAREN && next > CH.SPACE
  s.expect(
    CH.RPAREN,
    `')' after the ${keyword} argument`,
    needsQuotes ? 'quote the argument to use this character' : undefined,
  )
  return arg
}

function readPattern(s: RuleScanner, keyword: string, ignoreCase: boolean): string {
  const arg = readArgument(s, keyword, 'a pattern (a bare word or a quoted string)')
  if (arg.value === '') {
    s.failAt(arg.column - 1, 'a non-empty pattern', undefined, 'an empty string')
  }
  checkGlob(s, arg.value, arg.column, ignoreCase)
  return arg.value
}

/** Validate a glob now so its errors point into the rule text; it is compiled later. */
function checkGlob(s: RuleScanner, pattern: string, column: number, ignoreCase: boolean): void {
  parseGlob(pattern, ignoreCase, (offset, expected, found) => {
    return s.failAt(column - 1 + offset, expected, undefined, found)
  })
}

function readMethod(s: RuleScanner): string {
  const arg = readArgument(s, 'method', 'a method such as GET')
  checkToken(s, arg.value, arg.column, 'a method name')
  return arg.value
}

/** Fail unless `text` is an RFC 9110 token; an empty argument is reported as such. */
export function checkToken(s: RuleScanner, text: string, column: number, what: string): void {
  if (text === '') {
    const c = s.text.charCodeAt(column - 1)
    const emptyString = c === CH.DQUOTE || c === CH.SQUOTE
    s.failAt(column - 1, what, undefined, emptyString ? 'an empty string' : undefined)
  }
  const bad = findNonToken(text)
  if (bad >= 0) {
    s.failAt(column - 1 + bad, `${what} (${TOKEN_CHARS})`)
  }
}

/** header("Name"), header("Name:value"), header("Name~glob"): the first ':' or '~' splits. */
function readHeaderCondition(s: RuleScanner): MatcherDefinition {
  const arg = readArgument(s, 'header', 'a header name, "Name:value" or "Name~glob"')
  const text = arg.value
  const sep = firstSeparator(text)
  const name = trimmed(text, 0, sep < 0 ? text.length : sep)
  checkToken(s, text.slice(name.start, name.end), arg.column + name.start, 'a header name')
  const headerName = text.slice(name.start, name.end)
  if (sep < 0) {
    return { type: 'header-present', name: headerName }
  }
  const value = trimmed(text, sep + 1, text.length)
  const valueText = text.slice(value.start, value.end)
  if (text.charCodeAt(sep) === CH.COLON) {
    return { type: 'header-equals', name: headerName, value: valueText }
  }
  checkGlob(s, valueText, arg.column + value.start, false)
  return { type: 'header-glob', name: headerName, pattern: valueText }
}

function firstSeparator(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === CH.COLON || c === CH.TILDE) {
      return i
    }
  }
  return -1
}

/** [start, end) without surrounding spaces and tabs (RFC 9110 OWS is never part of a value). */
function trimmed(text: string, start: number, end: number): { start: number; end: number } {
  while (start < end && isBlank(text.charCodeAt(start))) {
    start++
  }
  while (end > start && isBlank(text.charCodeAt(end - 1))) {
    end--
  }
  return { start, end }
}

function isBlank(c: number): boolean {
  return c === CH.SPACE || c === CH.TAB
}
