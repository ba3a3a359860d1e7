/**
 * Glob syntax shared by host(), path(), header("Name~glob") and the
 * config's host lists:
 *
 *   *        any run of characters, '/' included (also the empty run)
 *   ?        exactly one character
 *   [a-z_]   one character from a class; [!...] or [^...] negates; a ']'
 *            right after the opening bracket is literal
 *   {a,b}    alternatives, which may nest (32 levels at most) and hold globs
 *   \c       the character c itself
 *
 * A ',' or '}' outside braces is an ordinary character.
 */

export type GlobNode =
  | { type: 'char'; code: number }
  | { type: 'any-char' }
  | { type: 'any-run' }
  | { type: 'class'; negated: boolean; ranges: number[] }
  | { type: 'alternatives'; branches: GlobNode[][] }

/** Called with a 0-based offset into the pattern; must throw. */
export type GlobFail = (offset: number, expected: string, found: string) => never

/** Braces nest at most this deep, like the parentheses of a rule. */
export const MAX_GLOB_NESTING = 32

const STAR = 42 // *
const COMMA = 44 // ,
const DASH = 45 // -
const QUESTION = 63 // ?
const LBRACKET = 91 // [
const BACKSLASH = 92 // \
const RBRACKET = 93 // ]
const CARET = 94 // ^
const BANG = 33 // !
const LBRACE = 123 // {
const RBRACE = 125 // }
const UPPER_A = 65
const UPPER_Z = 90
const CASE_BIT = 32

/** Parse a glob; with `fold`, letters are matched without regard to ASCII case. */
export function parseGlob(pattern: string, fold: boolean, fail: GlobFail): GlobNode[] {
  return new GlobParser(pattern, fold, fail).parseSequence(0, false)
}

function foldCode(c: number): number {
  return c >= UPPER_A && c <= UPPER_Z ? c | CASE_BIT : c
}

function describe(pattern: string, offset: number): string {
  if (offset >= pattern.length) {
    return 'end of pattern'
  }
  const c = pattern[offset]
  return c === "'" ? `"'"` : `'${c}'`
}

class GlobParser {
  readonly #text: string
  #fold: boolean
  readonly #fail: GlobFail
  #pos = 0

  constructor(text: string, fold: boolean, fail: GlobFail) {
    this.#text = text
    this.#fold = fold
    this.#fail = fail
  }

  parseSequence(depth: number, inBraces: boolean): GlobNode[] {
    const seq: GlobNode[] = []
    while (this.#pos < this.#text.length) {
      const c = this.#text.charCodeAt(this.#pos)
      if (inBraces && (c === COMMA || c === RBRACE)) {
        break
      }
      const node = this.#parseOne(c, depth)
      if (node.type !== 'any-run' || seq.at(-1)?.type !== 'any-run') {
        seq.push(node)
      }
    }
    return seq
  }

  #parseOne(c: number, depth: number): GlobNode {
    switch (c) {
      case STAR:
        this.#pos++
        return { type: 'any-run' }
      case QUESTION:
        this.#pos++
        return { type: 'any-char' }
      case LBRACKET:
        return this.#parseClass()
      case LBRACE:
        return this.#parseAlternatives(depth + 1)
      default:
        return { type: 'char', code: this.#readChar() }
    }
  }

  /** One literal character, `\c` escapes included; folded when asked. */
  #readChar(): number {
    let c = this.#text.charCodeAt(this.#pos)
    if (c === BACKSLASH) {
      this.#pos++
      if (this.#pos >= this.#text.length) {
        this.#fail(this.#pos, "a character after '\\'", 'end of pattern')
      }
      c = this.#text.charCodeAt(this.#pos)
    }
    this.#pos++
    return this.#fold ? foldCode(c) : c
  }

  #parseAlternatives(depth: number): GlobNode {
    if (depth > MAX_GLOB_NESTING) {
      this.#fail(this.#pos, `at most ${MAX_GLOB_NESTING} nested braces`, "'{'")
    }
    this.#pos++
    const branches: GlobNode[][] = []
    for (;;) {
      branches.push(this.parseSequence(depth, true))
      if (this.#pos >= this.#text.length) {
        this.#fail(this.#pos, "',' or '}' to close the alternatives", 'end of pattern')
      }
      const c = this.#text.charCodeAt(this.#pos++)
      if (c === RBRACE) {
        return { type: 'alternatives', branches }
      }
    }
  }

  #parseClass(): GlobNode {
    this.#pos++
    const next = this.#text.charCodeAt(this.#pos)
    const negated = next === BANG || next === CARET
    if (negated) {
      this.#pos++
    }
    const ranges: number[] = []
    for (let first = true; ; first = false) {
      if (this.#pos >= this.#text.length) {
        this.#fail(this.#pos, "']' to close the character class", 'end of pattern')
      }
      if (this.#text.charCodeAt(this.#pos) === RBRACKET && !first) {
        this.#pos++
        return { type: 'class', negated, ranges }
      }
      this.#parseRange(ranges)
    }
  }

  /** `a` or `a-z`; a '-' before ']' or at the end is literal. */
  #parseRange(ranges: number[]): void {
    const start = this.#pos
    const low = this.#readRaw()
    let high = low
    const dash = this.#text.charCodeAt(this.#pos) === DASH
    if (
      dash &&
      this.#pos + 1 < this.#text.length &&
      this.#text.charCodeAt(this.#pos + 1) !== RBRACKET
    ) {
      this.#pos++
      high = this.#readRaw()
      if (high < low) {
        this.#fail(
          start,
          'a range whose first character is not after its last',
          describe(this.#text, start),
        )
      }
    }
    ranges.push(low, high)
    if (this.#fold) {
      this.#addFoldedRange(ranges, low, high)
    }
  }

  /** The part of [low, high] inside A-Z, moved to a-z (input is folded before matching). */
  #addFoldedRange(ranges: number[], low: number, high: number): void {
    const from = Math.max(low, UPPER_A)
    const to = Math.min(high, UPPER_Z)
    if (from <= to) {
      ranges.push(from | CASE_BIT, to | CASE_BIT)
    }
  }

  #readRaw(): number {
    const fold = this.#fold
    this.#fold = false
    const c = this.#readChar()
    this.#fold = fold
    return c
  }
}
