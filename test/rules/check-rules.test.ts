import { describe, expect, test } from 'bun:test'
import { checkRules, inspectRule } from '../../src/rules/index.ts'
import type { RuleEntry } from '../../src/rules/index.ts'
import { normalizeCondition } from '../../src/rules/normalize-condition.ts'
import { parseRule } from '../../src/rules/parse-rule.ts'

const rules = (...texts: string[]): RuleEntry[] =>
  texts.map((rule, i) => ({ name: `r${i + 1}`, rule }))

describe('given conditions spelled differently', () => {
  test.each([
    ['host(A.example) && header(X-Key)', 'HEADER(x-key) && Host("a.example")'],
    ['host(a) && (path(/x) && method(GET))', 'method(GET) && host(a) && path(/x)'],
    ['host(a) || host(a)', 'host(a)'],
    ['!!host(a)', '(host(a))'],
    ['header("X-Env : prod")', "header('x-env:prod')"],
  ])('%s should normalize like %s', (a, b) => {
    const normalize = (text: string) => normalizeCondition(parseRule(`${text} = block`).condition)
    expect(normalize(a)).toBe(normalize(b))
  })

  test.each([
    ['path(/A)', 'path(/a)'],
    ['method(GET)', 'method(get)'],
    ['header("X:a")', 'header("X~a")'],
    ['host(a) && host(b)', 'host(a) || host(b)'],
    ['!host(a)', 'host(a)'],
  ])('%s should differ from %s', (a, b) => {
    const normalize = (text: string) => normalizeCondition(parseRule(`${text} = block`).condition)
    expect(normalize(a)).not.toBe(normalize(b))
  })
})

describe('given rules to check at load', () => {
  test('should warn about every rule after a ternary', () => {
    const { warnings } = checkRules(
      rules('host(a) = pass', 'method(GET) = block : pass', 'host(b) = block', 'host(c) = pass'),
    )
    expect(warnings).toEqual([
      'rule "r3" (#3) is unreachable: rule "r2" (#2) is a ternary and always decides',
      'rule "r4" (#4) is unreachable: rule "r2" (#2) is a ternary and always decides',
    ])
  })

  test('should warn about a rule with the same condition as an earlier one', () => {
    const { warnings } = checkRules(
      rules('Host(A) && header(k) = pass', 'path(/x) = pass', 'header(K) && host(a) = block'),
    )
    expect(warnings).toEqual([
      'rule "r3" (#3) has the same condition as rule "r1" (#1), which decides first: it never decides',
    ])
  })

  test('should warn about a lower-case standard method', () => {
    expect(checkRules(rules('!method(post) = pass', 'method(brew) = pass')).warnings).toEqual([
      'rule "r1" (#1): method(post) never matches POST: methods are case-sensitive',
    ])
  })

  test('should warn about mangle without headers entry and headers entry without mangle', () => {
    const { warnings } = checkRules(
      rules('host(a) = mangle', 'host(b) = pass', 'host(c) = rate_limit(1/s, ip) + mangle'),
      [{ rules: ['r2', 'r3'], add: [{ name: 'X', value: '1' }] }],
    )
    expect(warnings).toEqual([
      'headers entry #1 names rule "r2" (#2), which has no mangle action: its changes never apply',
      'rule "r1" (#1) has a mangle action but no headers entry names it: it changes nothing',
    ])
  })

  test('should say nothing about a clean list and skip rules that do not parse', () => {
    expect(
      checkRules(rules('host(a) = pass', 'host(b) = block', 'host(', 'method(GET) = block : pass'))
        .warnings,
    ).toEqual([])
  })
})

describe('given the config loader inspecting rule text', () => {
  test.each([
    ['host(a) = pass', { ok: true, hasCredit: false, hasRateLimit: false, hasMangle: false }],
    [
      'host(a) = credit(1/d, ip) + mangle',
      { ok: true, hasCredit: true, hasRateLimit: false, hasMangle: true },
    ],
    [
      'host(a) = pass : rate_limit(1/s, ip)',
      { ok: true, hasCredit: false, hasRateLimit: true, hasMangle: false },
    ],
    [
      'host(a) =',
      {
        ok: false,
        column: 10,
        message:
          'expected an action (block, pass, mangle, rate_limit or credit), found end of rule',
      },
    ],
  ])('%s should inspect as %j', (text, expected) => {
    expect(inspectRule(text)).toEqual(expected as never)
  })
})
