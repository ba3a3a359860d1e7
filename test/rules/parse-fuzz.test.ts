/**
 * No input may crash the parser or make it slow (SPEC §5). Random and
 * mutated rule strings must either parse (and then compile and evaluate) or
 * throw RuleSyntaxError, nothing else; and parse time must grow linearly.
 */
import { describe, expect, test } from 'bun:test'
import { RuleSyntaxError, compileRuleSet, parseRule } from '../../src/rules/index.ts'
import type { RuleRequest } from '../../src/rules/index.ts'
import { makeRandom, pick } from './random.ts'

const SEEDS = [
  'host("*.example.com") && !method(GET) = rate_limit(10/s, ip) + mangle : block',
  'header("Referer~https://*") || path(/api/{v1,v2}/*) = credit(1000/M, header(X-Api-Key) + ip)',
  '(host(\'a\') || host(b)) && header("X-Env:prod") = pass : mangle + credit(5/d, path(*) + host(*))',
  'method(GET) = block : pass',
  '!(!(path("/[a-z]?x"))) = rate_limit(100/m, header(Authorization))',
]
const TOKENS = [
  'host',
  'path',
  'method',
  'header',
  'block',
  'pass',
  'mangle',
  'rate_limit',
  'credit',
  'ip',
  '(',
  ')',
  '!',
  '&&',
  '||',
  '&',
  '|',
  '=',
  ':',
  '+',
  ',',
  '/',
  '*',
  '?',
  '~',
  '"',
  "'",
  '[',
  ']',
  '{',
  '}',
  '\\',
  ' ',
  '\t',
  '\n',
  '10',
  '0',
  's',
  'm',
  'M',
  'h',
  'd',
  'w',
  'a.b',
  'X-Key',
  'é',
  '\u0000',
]
const REQUEST: RuleRequest = {
  method: 'GET',
  host: 'a.example.com',
  path: '/api/v1/x',
  ip: '192.0.2.1',
  headers: ['X-Api-Key', 'k', 'Referer', 'https://x', 'X-Env', 'prod'],
}

function randomTokens(random: (n: number) => number): string {
  let text = ''
  for (let n = random(24); n >= 0; n--) {
    text += pick(random, TOKENS)
  }
  return text
}

function randomChars(random: (n: number) => number): string {
  let text = ''
  for (let n = random(40); n >= 0; n--) {
    text += String.fromCharCode(random(4) === 0 ? random(0x3000) : 32 + random(95))
  }
  return text
}

/** Delete, insert, replace or duplicate a slice of a valid rule, or cut it short. */
function mutate(random: (n: number) => number, text: string): string {
  const at = random(text.length + 1)
  const len = random(6)
  switch (random(5)) {
    case 0:
      return text.slice(0, at) + text.slice(at + len)
    case 1:
      return text.slice(0, at) + pick(random, TOKENS) + text.slice(at)
    case 2:
      return text.slice(0, at) + pick(random, TOKENS) + text.slice(at + len)
    case 3:
      return text.slice(0, at) + text.slice(at, at + len * 4) + text.slice(at)
    default:
      return text.slice(0, at)
  }
}

function makeInput(random: (n: number) => number, i: number): string {
  switch (i % 3) {
    case 0:
      return randomTokens(random)
    case 1:
      return randomChars(random)
    default: {
      let text = pick(random, SEEDS)
      for (let n = random(4); n >= 0; n--) {
        text = mutate(random, text)
      }
      return text
    }
  }
}

describe('given 120000 random and mutated rule strings', () => {
  test('should only return a rule (that compiles and evaluates) or throw RuleSyntaxError', () => {
    // Capturing 100k stack traces would cost more than the parsing under test.
    const stackTraceLimit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    const random = makeRandom(20260101)
    const outcomes = { parsed: 0, refused: 0, other: [] as string[] }
    for (let i = 0; i < 120_000; i++) {
      const text = makeInput(random, i)
      try {
        parseRule(text, 'fuzz')
      } catch (err) {
        if (err instanceof RuleSyntaxError && err.column >= 1 && err.column <= text.length + 1) {
          outcomes.refused++
        } else {
          outcomes.other.push(`${JSON.stringify(text)}: ${String(err)}`)
        }
        continue
      }
      outcomes.parsed++
      compileRuleSet({ rules: [{ name: 'fuzz', rule: text }] }).evaluate(REQUEST)
    }
    Error.stackTraceLimit = stackTraceLimit
    expect(outcomes.other).toEqual([])
    expect(outcomes.parsed).toBeGreaterThan(1_000)
    expect(outcomes.refused).toBeGreaterThan(50_000)
  }, 60_000)
})

/** CPU time (µs) of this process for `run`: other processes on a busy machine do not count. */
function cpuMicros(run: () => void): number {
  const start = process.cpuUsage()
  run()
  const used = process.cpuUsage(start)
  return used.user + used.system
}

/**
 * CPU time of running on `make(8n)` once over running on `make(n)` 8 times,
 * best of 5: about 1 when the work is linear, about 8 when quadratic. A ratio
 * of CPU times, never a wall-clock limit.
 */
function growthRatio(run: (text: string) => void, make: (n: number) => string, n: number): number {
  const small = make(n)
  const large = make(n * 8)
  run(make(n / 4)) // warm up the JIT
  let best = Infinity
  for (let trial = 0; trial < 5; trial++) {
    const smallCost = cpuMicros(() => {
      for (let i = 0; i < 8; i++) {
        run(small)
      }
    })
    const largeCost = cpuMicros(() => run(large))
    best = Math.min(best, largeCost / Math.max(smallCost, 1))
  }
  return best
}

function parseQuietly(text: string): void {
  try {
    parseRule(text)
  } catch (err) {
    if (!(err instanceof RuleSyntaxError)) {
      throw err
    }
  }
}

describe('given inputs 8 times longer', () => {
  test.each<[string, (n: number) => string]>([
    ['a long && chain', (n) => `${'host(a) && '.repeat(n / 11)}host(a) = block`],
    ['a long bare word', (n) => `host(${'a'.repeat(n)}) = block`],
    ['a long glob', (n) => `path("${'a*'.repeat(n / 2)}b") = block`],
    ['a long quoted string left open', (n) => `host("${'a'.repeat(n)} = block`],
    ['long whitespace', (n) => `host(a)${' '.repeat(n)}= block`],
    ['a long key', (n) => `host(a) = rate_limit(1/s, ${'ip + '.repeat(n / 5)}ip)`],
    ['deep nesting', (n) => '('.repeat(n)],
    ['long runs of !', (n) => '!'.repeat(n)],
  ])('%s should parse in time linear in its length', (_, make) => {
    expect(growthRatio(parseQuietly, make, 20_000)).toBeLessThan(3)
  })

  test('a glob of 32 stars should match a long path in time linear in the path', () => {
    // Ends in '*' so no prefilter can reject the input: the NFA reads all of it.
    const rules = compileRuleSet({
      rules: [{ name: 'g', rule: `path("${'a*'.repeat(32)}b*") = block` }],
    })
    const match = (path: string) => {
      expect(rules.evaluate({ ...REQUEST, path }).rule).toBeNull()
    }
    expect(growthRatio(match, (n) => 'a'.repeat(n), 4_000)).toBeLessThan(3)
  })
})
