import { RoxyError } from '../errors.ts'

/** Characters shown either side of the caret when a rule is too long for one line. */
const EXCERPT_RADIUS = 36

export interface RuleSyntaxProblem {
  /** The rule's name from the config, when known. */
  rule?: string
  /** The whole rule text. */
  text: string
  /** 1-based column of the offending character (length + 1 for "end of rule"). */
  column: number
  /** What the parser wanted there, e.g. `')'` or `a positive whole number`. */
  expected: string
  /** What it got, e.g. `'='` or `end of rule`. */
  found: string
  /** One more sentence on how to fix it, when there is an obvious one. */
  hint?: string
}

/**
 * A rule that does not parse. The message names the rule and the column,
 * shows the text with a caret under the column and says what was expected:
 *
 *   rule "api": column 13: expected ')' after the pattern, found '='
 *     host(a.com = block
 *                ^
 */
export class RuleSyntaxError extends RoxyError {
  readonly rule: string | undefined
  readonly text: string
  readonly column: number
  readonly expected: string
  readonly found: string
  /** One line without the rule name or excerpt: `expected X, found Y (hint)`. */
  readonly detail: string

  constructor(problem: RuleSyntaxProblem) {
    const detail = formatDetail(problem)
    const where = problem.rule === undefined ? '' : `rule ${JSON.stringify(problem.rule)}: `
    const excerpt = formatExcerpt(problem.text, problem.column)
    super('ROXY_E_RULE_SYNTAX', `${where}column ${problem.column}: ${detail}\n${excerpt}`)
    this.name = 'RuleSyntaxError'
    this.rule = problem.rule
    this.text = problem.text
    this.column = problem.column
    this.expected = problem.expected
    this.found = problem.found
    this.detail = detail
  }
}

function formatDetail(problem: RuleSyntaxProblem): string {
  const hint = problem.hint ? ` (${problem.hint})` : ''
  return `expected ${problem.expected}, found ${problem.found}${hint}`
}

/**
 * Two lines: the text (or a window of it around the column) and a caret.
 * Control characters become spaces so the caret stays under its column.
 */
export function formatExcerpt(text: string, column: number): string {
  let start = 0
  let end = text.length
  if (text.length > EXCERPT_RADIUS * 2) {
    start = Math.max(0, column - 1 - EXCERPT_RADIUS)
    end = Math.min(text.length, column - 1 + EXCERPT_RADIUS)
  }
  const lead = start > 0 ? '...' : ''
  const tail = end < text.length ? '...' : ''
  const shown = lead + text.slice(start, end).replace(/[\x00-\x1f\x7f]/g, ' ') + tail
  const caret = ' '.repeat(lead.length + column - 1 - start) + '^'
  return `  ${shown}\n  ${caret}`
}
