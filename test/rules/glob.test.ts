import { describe, expect, test } from 'bun:test'
import { GlobNfa } from '../../src/rules/glob-nfa.ts'
import { RuleSyntaxError, compileGlob } from '../../src/rules/index.ts'
import { parseGlob } from '../../src/rules/parse-glob.ts'
import type { GlobNode } from '../../src/rules/parse-glob.ts'
import { makeRandom } from './random.ts'

const fail = (offset: number, expected: string): never => {
  throw new Error(`${offset}: ${expected}`)
}

describe('given a glob', () => {
  test.each<[string, string, boolean]>([
    ['a.example', 'a.example', true],
    ['a.example', 'a.example.org', false],
    ['a.example', 'xa.example', false],
    ['*', '', true],
    ['*', 'anything/at/all', true],
    ['*.example', 'a.example', true],
    ['*.example', 'a.b.example', true],
    ['*.example', '.example', true],
    ['*.example', 'example', false],
    ['/api/*', '/api/', true],
    ['/api/*', '/api/v1/users', true],
    ['/api/*', '/ap', false],
    ['*api*', '/v1/api/x', true],
    ['*api*', '/v1/ap/x', false],
    ['/v?/x', '/v1/x', true],
    ['/v?/x', '/v/x', false],
    ['/v?/x', '/v12/x', false],
    ['/v[0-9]/x', '/v7/x', true],
    ['/v[0-9]/x', '/va/x', false],
    ['/v[!0-9]/x', '/va/x', true],
    ['/v[^0-9]/x', '/v7/x', false],
    ['[]]', ']', true],
    ['[!]]', 'a', true],
    ['[a-]', '-', true],
    ['x[-a]', 'x-', true],
    ['{a,b}.example', 'a.example', true],
    ['{a,b}.example', 'b.example', true],
    ['{a,b}.example', 'c.example', false],
    ['{,www.}example', 'example', true],
    ['{,www.}example', 'www.example', true],
    ['{a,{b,c}d}x', 'cdx', true],
    ['{a,{b,c}d}x', 'cx', false],
    ['/{api,v*}/x', '/v2/beta/x', true],
    ['a,b}', 'a,b}', true],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['*/', 'a/b/', true],
    ['https://*', 'https://a.example/x', true],
    ['https://*', 'http://a.example/x', false],
    ['?*', '', false],
    ['?*', 'x', true],
  ])('%p against %p should be %p', (pattern, input, expected) => {
    expect(compileGlob(pattern).test(input)).toBe(expected)
  })

  test.each<[string, string, boolean]>([
    ['*.Example.COM', 'api.example.com', true],
    ['api.example.com', 'API.Example.Com', true],
    ['[A-C]x', 'bx', true],
    ['[A-C]x', 'Bx', true],
    ['[!A-C]x', 'bx', false],
    ['{WWW,api}.x', 'www.x', true],
  ])('%p ignoring case against %p should be %p', (pattern, input, expected) => {
    expect(compileGlob(pattern, { ignoreCase: true }).test(input)).toBe(expected)
  })

  test('should compare case when not told otherwise', () => {
    expect(compileGlob('/API/*').test('/api/x')).toBe(false)
  })

  test.each<[string, string]>([
    ['exact.example', 'exact'],
    ['pre*', 'prefix'],
    ['*.suf', 'suffix'],
    ['*mid*', 'contains'],
    ['*', 'any'],
    ['a?c', 'nfa'],
    ['{a,b}', 'nfa'],
  ])('%p should compile to the %s strategy', (pattern, strategy) => {
    expect(compileGlob(pattern).strategy).toBe(strategy as never)
  })

  test('should explain itself', () => {
    expect(compileGlob('*.x').explain()).toBe('matches "*.x"')
    expect(compileGlob('a.x').explain()).toBe('is "a.x"')
  })

  test.each<[string, number]>([
    ['[abc', 5],
    ['{a,b', 5],
    ['a\\', 3],
    ['[b-a]', 2],
    [`${'{'.repeat(33)}a${'}'.repeat(33)}`, 33],
  ])('%p should be refused at column %d', (pattern, column) => {
    let error: unknown
    try {
      compileGlob(pattern)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(RuleSyntaxError)
    expect((error as RuleSyntaxError).column).toBe(column)
  })
})

/** An obviously correct (exponential) matcher to compare the NFA with. */
function matchReference(nodes: GlobNode[], input: string, at = 0): boolean {
  if (nodes.length === 0) {
    return at === input.length
  }
  const [node, ...rest] = nodes
  switch (node.type) {
    case 'any-run':
      for (let i = at; i <= input.length; i++) {
        if (matchReference(rest, input, i)) {
          return true
        }
      }
      return false
    case 'alternatives':
      return node.branches.some((branch) => matchReference([...branch, ...rest], input, at))
    default:
      return (
        at < input.length &&
        matchesOne(node, input.charCodeAt(at)) &&
        matchReference(rest, input, at + 1)
      )
  }
}

function matchesOne(node: GlobNode, c: number): boolean {
  switch (node.type) {
    case 'char':
      return node.code === c
    case 'any-char':
      return true
    case 'class': {
      let inside = false
      for (let i = 0; i < node.ranges.length; i += 2) {
        inside ||= c >= node.ranges[i] && c <= node.ranges[i + 1]
      }
      return inside !== node.negated
    }
    default:
      return false
  }
}

describe('given random globs and inputs', () => {
  const PIECES = [
    'a',
    'b',
    'A',
    '/',
    '*',
    '?',
    '[ab]',
    '[!a]',
    '[A-Z]',
    '{a,b}',
    '{a*,}',
    '{,b?}',
    '.',
  ]
  const INPUT = 'abAB/.'
  const fold = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase())

  test('should match exactly like a reference backtracking matcher, with and without case (3000 pairs)', () => {
    const random = makeRandom(7)
    let compared = 0
    for (let i = 0; i < 3000; i++) {
      let pattern = ''
      for (let n = random(6); n >= 0; n--) {
        pattern += PIECES[random(PIECES.length)]
      }
      let input = ''
      for (let n = random(8); n > 0; n--) {
        input += INPUT[random(INPUT.length)]
      }
      const nodes = parseGlob(pattern, false, fail)
      const expected = matchReference(nodes, input)
      expect(`${pattern} ${input} ${compileGlob(pattern).test(input)}`).toBe(
        `${pattern} ${input} ${expected}`,
      )
      expect(new GlobNfa(nodes, false).test(input)).toBe(expected)
      const folded = matchReference(parseGlob(pattern, true, fail), fold(input))
      expect(compileGlob(pattern, { ignoreCase: true }).test(input)).toBe(folded)
      compared++
    }
    expect(compared).toBe(3000)
  })
})

describe('given a pathological glob (no backtracking)', () => {
  /** States visited per input character: constant when matching is linear. */
  const stepsPerChar = (pattern: string, input: string) => {
    const nfa = new GlobNfa(parseGlob(pattern, false, fail), false)
    expect(nfa.test(input)).toBe(false)
    return nfa.lastSteps / input.length
  }

  test.each([
    ['a*a*a*a*a*a*a*a*a*b', 'a'],
    ['*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*ab', 'a'],
    ['{a,a*}{a,a*}{a,a*}{a,a*}b', 'a'],
    ['*?*?*?*?*?*?b', 'x'],
  ])(
    '%p against a long run of %p should cost the same per character at n and 8n',
    (pattern, ch) => {
      const small = stepsPerChar(pattern, ch.repeat(2_000))
      const large = stepsPerChar(pattern, ch.repeat(16_000))
      expect(large).toBeLessThanOrEqual(small * 1.05)
      expect(large).toBeLessThanOrEqual(
        new GlobNfa(parseGlob(pattern, false, fail), false).stateCount,
      )
    },
  )
})
