import { RuleSyntaxError } from './rule-syntax-error.ts'

/** Character codes the rule grammar reads; the switch in each method names them. */
export const CH = {
  TAB: 9,
  LF: 10,
  CR: 13,
  SPACE: 32,
  BANG: 33, // !
  DQUOTE: 34, // "
  AMP: 38, // &
  SQUOTE: 39, // '
  LPAREN: 40, // (
  RPAREN: 41, // )
  STAR: 42, // *
  PLUS: 43, // +
  COMMA: 44, // ,
  DASH: 45, // -
  DOT: 46, // .
  SLASH: 47, // /
  DIGIT_0: 48,
  DIGIT_9: 57,
  COLON: 58, // :
  EQUALS: 61, // =
  QUESTION: 63, // ?
  UPPER_A: 65,
  UPPER_Z: 90,
  UNDERSCORE: 95, // _
  LOWER_A: 97,
  LOWER_Z: 122,
  PIPE: 124, // |
  TILDE: 126, // ~
} as const

/** A string argument as written, with the column of its first character. */
export interface ScannedString {
  value: string
  /** 1-based column of `value[0]` in the rule text (after the opening quote). */
  column: number
  quoted: boolean
}

/** Longest word quoted back in a "found ..." message. */
const FOUND_MAX = 24

export function isLetter(c: number): boolean {
  return (c >= CH.UPPER_A && c <= CH.UPPER_Z) || (c >= CH.LOWER_A && c <= CH.LOWER_Z)
}

export function isDigit(c: number): boolean {
  return c >= CH.DIGIT_0 && c <= CH.DIGIT_9
}

/** Keyword characters: letters, digits and `_` (rate_limit). */
export function isWordChar(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === CH.UNDERSCORE
}

/** Bare string characters: [A-Za-z0-9-_.*\/?]. */
export function isBareChar(c: number): boolean {
  switch (c) {
    case CH.DASH:
    case CH.UNDERSCORE:
    case CH.DOT:
    case CH.STAR:
    case CH.SLASH:
    case CH.QUESTION:
      return true
    default:
      return isLetter(c) || isDigit(c)
  }
}

function isSpace(c: number): boolean {
  return c === CH.SPACE || c === CH.TAB || c === CH.LF || c === CH.CR
}

/**
 * A cursor over the rule text that reads one char code at a time. It never
 * backs up more than one token, so a rule is read in time linear in its length.
 */
export class RuleScanner {
  readonly text: string
  readonly rule: string | undefined
  #pos = 0

  constructor(text: string, rule?: string) {
    this.text = text
    this.rule = rule
  }

  /** Offset of the next unread character (0-based). */
  get pos(): number {
    return this.#pos
  }

  /** Skip whitespace, then return the next char code (NaN at the end). */
  peek(): number {
    this.#skipSpace()
    return this.text.charCodeAt(this.#pos)
  }

  isAtEnd(): boolean {
    return Number.isNaN(this.peek())
  }

  /** Consume `c` (after whitespace) if it is next. */
  eat(c: number): boolean {
    if (this.peek() !== c) {
      return false
    }
    this.#pos++
    return true
  }

  /** Consume the two-character operator `cc` (`&&`, `||`) if it is next. */
  eatDouble(c: number): boolean {
    if (this.peek() !== c || this.text.charCodeAt(this.#pos + 1) !== c) {
      return false
    }
    this.#pos += 2
    return true
  }

  /** Consume `c` or fail saying it was expected. */
  expect(c: number, expected: string, hint?: string): void {
    if (!this.eat(c)) {
      this.fail(expected, hint)
    }
  }

  /** Read a keyword ([A-Za-z0-9_]+); '' when none is next. */
  readWord(): string {
    this.#skipSpace()
    const start = this.#pos
    while (isWordChar(this.text.charCodeAt(this.#pos))) {
      this.#pos++
    }
    return this.text.slice(start, this.#pos)
  }

  /** Read a run of digits; '' when none is next. */
  readDigits(): string {
    this.#skipSpace()
    const start = this.#pos
    while (isDigit(this.text.charCodeAt(this.#pos))) {
      this.#pos++
    }
    return this.text.slice(start, this.#pos)
  }

  /** Read `"..."`, `'...'` or a bare word; fails with `expected` when none is next. */
  readString(expected: string): ScannedString {
    const c = this.peek()
    if (c === CH.DQUOTE || c === CH.SQUOTE) {
      return this.#readQuoted(c)
    }
    const start = this.#pos
    while (isBareChar(this.text.charCodeAt(this.#pos))) {
      this.#pos++
    }
    if (start === this.#pos) {
      this.fail(expected)
    }
    return { value: this.text.slice(start, this.#pos), column: start + 1, quoted: false }
  }

  /** Throw a RuleSyntaxError at the next unread character. */
  fail(expected: string, hint?: string): never {
    this.#skipSpace()
    return this.failAt(this.#pos, expected, hint)
  }

  /** Throw a RuleSyntaxError at offset `pos`, describing what stands there. */
  failAt(pos: number, expected: string, hint?: string, found?: string): never {
    throw new RuleSyntaxError({
      rule: this.rule,
      text: this.text,
      column: pos + 1,
      expected,
      found: found ?? this.describeAt(pos),
      hint,
    })
  }

  /** `end of rule`, `"word"` for a keyword-like run, or `'c'` for one character. */
  describeAt(pos: number): string {
    if (pos >= this.text.length) {
      return 'end of rule'
    }
    let end = pos
    while (end < this.text.length && isWordChar(this.text.charCodeAt(end))) {
      end++
    }
    if (end - pos > 1) {
      const word = this.text.slice(pos, Math.min(end, pos + FOUND_MAX))
      return JSON.stringify(end - pos > FOUND_MAX ? word + '...' : word)
    }
    return describeChar(this.text.charCodeAt(pos))
  }

  #readQuoted(quote: number): ScannedString {
    const open = this.#pos
    const close = this.text.indexOf(String.fromCharCode(quote), open + 1)
    if (close < 0) {
      const q = quote === CH.DQUOTE ? `'"'` : `"'"`
      this.failAt(this.text.length, `a closing ${q}`, `the string opens at column ${open + 1}`)
    }
    this.#pos = close + 1
    return { value: this.text.slice(open + 1, close), column: open + 2, quoted: true }
  }

  #skipSpace(): void {
    while (isSpace(this.text.charCodeAt(this.#pos))) {
      this.#pos++
    }
  }
}

/** `'c'`, or a code point for characters that do not print. */
export function describeChar(c: number): string {
  if (c < CH.SPACE || c === 127) {
    return `character U+${c.toString(16).toUpperCase().padStart(4, '0')}`
  }
  return c === CH.SQUOTE ? `"'"` : `'${String.fromCharCode(c)}'`
}

/** RFC 9110 §5.6.2 tchar: what a method or header name may contain. */
export function isTokenChar(c: number): boolean {
  switch (c) {
    case 33: // !
    case 35: // #
    case 36: // $
    case 37: // %
    case 38: // &
    case 39: // '
    case 42: // *
    case 43: // +
    case 45: // -
    case 46: // .
    case 94: // ^
    case 95: // _
    case 96: // `
    case 124: // |
    case 126: // ~
      return true
    default:
      return isLetter(c) || isDigit(c)
  }
}

/** Offset of the first character of `text` that is not a tchar, or -1. */
export function findNonToken(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (!isTokenChar(text.charCodeAt(i))) {
      return i
    }
  }
  return -1
}

/** `a`, `a or b`, `a, b or c`. */
export function listOr(items: readonly string[]): string {
  if (items.length <= 1) {
    return items.join('')
  }
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`
}
