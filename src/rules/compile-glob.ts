import { GlobNfa } from './glob-nfa.ts'
import { parseGlob } from './parse-glob.ts'
import type { GlobNode } from './parse-glob.ts'
import { RuleSyntaxError } from './rule-syntax-error.ts'

/** A compiled glob (syntax in parse-glob.ts). `test` allocates nothing. */
export interface Glob {
  readonly pattern: string
  /** Which matcher was chosen: plain string checks where possible, else the NFA. */
  readonly strategy: 'exact' | 'prefix' | 'suffix' | 'contains' | 'any' | 'nfa'
  test(input: string): boolean
  explain(): string
}

export interface GlobOptions {
  /** Match letters without regard to ASCII case (hosts, header names). */
  ignoreCase?: boolean
}

const UPPER_A = 65
const UPPER_Z = 90
const CASE_BIT = 32

/**
 * Compile a glob once; matching is linear in the input for every pattern.
 * Throws RuleSyntaxError (column within the pattern) when it does not parse.
 *
 * @example compileGlob('*.bank.example', { ignoreCase: true }).test('www.bank.example') // true
 */
export function compileGlob(pattern: string, options: GlobOptions = {}): Glob {
  const fold = options.ignoreCase === true
  const nodes = parseGlob(pattern, fold, (offset, expected, found) => {
    throw new RuleSyntaxError({ text: pattern, column: offset + 1, expected, found })
  })
  const test = buildTest(nodes, fold)
  const explain = () => `${test.strategy === 'exact' ? 'is' : 'matches'} ${JSON.stringify(pattern)}`
  return { pattern, strategy: test.strategy, test: test.run, explain }
}

interface GlobTest {
  strategy: Glob['strategy']
  run(input: string): boolean
}

/** Pick the cheapest correct test for the shape `lit`, `lit*`, `*lit`, `*lit*`, `*`. */
function buildTest(nodes: GlobNode[], fold: boolean): GlobTest {
  const stars = nodes.filter((n) => n.type === 'any-run').length
  const literal = literalOf(nodes)
  const first = nodes[0]?.type === 'any-run'
  const last = nodes.at(-1)?.type === 'any-run'
  if (literal === null) {
    return buildNfaTest(nodes, fold)
  }
  if (stars === 0) {
    const run = fold
      ? (input: string) =>
          input === literal ||
          (input.length === literal.length && regionEquals(input, 0, literal, true))
      : (input: string) => input === literal
    return { strategy: 'exact', run }
  }
  if (nodes.length === 1) {
    return { strategy: 'any', run: () => true }
  }
  if (stars === 1 && last) {
    return { strategy: 'prefix', run: (input) => regionEquals(input, 0, literal, fold) }
  }
  if (stars === 1 && first) {
    return { strategy: 'suffix', run: (input) => hasSuffix(input, literal, fold) }
  }
  if (stars === 2 && first && last && !fold) {
    return { strategy: 'contains', run: (input) => input.includes(literal) }
  }
  return buildNfaTest(nodes, fold)
}

/**
 * The NFA behind cheap filters: the shortest input the glob can match, and
 * its fixed leading and trailing characters (`/api/{v1,v2}/*` must start with
 * `/api/`), so most non-matching inputs never reach the NFA.
 */
function buildNfaTest(nodes: GlobNode[], fold: boolean): GlobTest {
  const nfa = new GlobNfa(nodes, fold)
  const minLength = measureMinLength(nodes)
  const head = literalOf(nodes.slice(0, countLeadingChars(nodes))) ?? ''
  const tailCount = countLeadingChars([...nodes].reverse())
  const tail =
    tailCount === nodes.length ? '' : (literalOf(nodes.slice(nodes.length - tailCount)) ?? '')
  const run = (input: string) =>
    input.length >= minLength &&
    regionEquals(input, 0, head, fold) &&
    hasSuffix(input, tail, fold) &&
    nfa.test(input)
  return { strategy: 'nfa', run }
}

function countLeadingChars(nodes: GlobNode[]): number {
  let count = 0
  while (count < nodes.length && nodes[count].type === 'char') {
    count++
  }
  return count
}

/** Fewest characters an input needs to match `nodes`. */
function measureMinLength(nodes: GlobNode[]): number {
  let length = 0
  for (const node of nodes) {
    if (node.type === 'alternatives') {
      length += Math.min(...node.branches.map(measureMinLength))
    } else if (node.type !== 'any-run') {
      length++
    }
  }
  return length
}

/** The characters of a glob made only of characters and `*`, or null. */
function literalOf(nodes: GlobNode[]): string | null {
  let text = ''
  for (const node of nodes) {
    if (node.type === 'char') {
      text += String.fromCharCode(node.code)
    } else if (node.type !== 'any-run') {
      return null
    }
  }
  return text
}

function hasSuffix(input: string, literal: string, fold: boolean): boolean {
  return (
    input.length >= literal.length &&
    regionEquals(input, input.length - literal.length, literal, fold)
  )
}

/**
 * Does `input` hold `literal` at offset `at`? With `fold`, ASCII letters of
 * the input are compared in lower case (the literal is already folded).
 */
function regionEquals(input: string, at: number, literal: string, fold: boolean): boolean {
  if (input.length - at < literal.length) {
    return false
  }
  for (let i = 0; i < literal.length; i++) {
    let c = input.charCodeAt(at + i)
    if (fold && c >= UPPER_A && c <= UPPER_Z) {
      c |= CASE_BIT
    }
    if (c !== literal.charCodeAt(i)) {
      return false
    }
  }
  return true
}
