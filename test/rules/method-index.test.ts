import { describe, expect, test } from 'bun:test'
import { compileRuleSet } from '../../src/rules/index.ts'
import type { Decision, RuleEntry, RuleRequest } from '../../src/rules/index.ts'
import { buildRuleOrder, listPossibleMethods } from '../../src/rules/method-index.ts'
import { parseRule } from '../../src/rules/parse-rule.ts'
import { makeRandom, pick } from './random.ts'

describe('given conditions that mention methods', () => {
  test.each<[string, string[] | null]>([
    ['method(GET)', ['GET']],
    ['method(GET) && host(a)', ['GET']],
    ['method(GET) || method(POST)', ['GET', 'POST']],
    ['(method(GET) || method(POST)) && method(POST)', ['POST']],
    ['method(GET) && method(POST)', []],
    ['method(GET) || host(a)', null],
    ['!method(GET)', null],
    ['host(a)', null],
  ])('%s can only hold for %j', (condition, methods) => {
    const set = listPossibleMethods(parseRule(`${condition} = block`).condition)
    expect(set === null ? null : [...set].sort()).toEqual(methods)
  })

  test('should keep ternaries in every list and drop rules that cannot hold', () => {
    const texts = [
      'method(GET) = block',
      'host(a) = pass',
      'method(POST) = mangle : block',
      'method(PUT) = pass',
    ]
    const order = buildRuleOrder(
      texts.map((t) => {
        const definition = parseRule(t)
        return { definition, isTernary: definition.else !== null }
      }),
      true,
    )
    const listFor = (method: string) => [...(order.byMethod?.get(method) ?? order.other)]
    expect(listFor('GET')).toEqual([0, 1, 2])
    expect(listFor('POST')).toEqual([1, 2])
    expect(listFor('PUT')).toEqual([1, 2, 3])
    expect(listFor('BREW')).toEqual([1, 2])
  })
})

const CONDITIONS = [
  'method(GET)',
  'method(POST)',
  'method(get)',
  '!method(GET)',
  'method(GET) || method(PUT)',
  'method(POST) && host(a.example)',
  'method(GET) && method(POST)',
  'host(a.example)',
  'host(*.example) && !path(/x/*)',
  'header(X-Key)',
  'path(/x/*) || method(DELETE)',
  'header("X-Env:prod") && method(PUT)',
]
const ACTIONS = [
  'block',
  'pass',
  'mangle',
  'rate_limit(5/s, ip)',
  'credit(9/d, header(X-Key)) + mangle',
]
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'get', 'BREW', 'CONNECT']

function randomRules(random: (n: number) => number): { rules: RuleEntry[]; names: string[] } {
  const rules: RuleEntry[] = []
  for (let i = random(12); i >= 0; i--) {
    const ternary = random(6) === 0 ? ` : ${pick(random, ACTIONS)}` : ''
    rules.push({
      name: `r${rules.length}`,
      rule: `${pick(random, CONDITIONS)} = ${pick(random, ACTIONS)}${ternary}`,
    })
  }
  return { rules, names: rules.map((r) => r.name) }
}

function randomRequest(random: (n: number) => number): RuleRequest {
  const headers: string[] = []
  if (random(2) === 0) {
    headers.push('X-Key', 'k')
  }
  if (random(2) === 0) {
    headers.push('X-Env', pick(random, ['prod', 'dev']))
  }
  return {
    method: pick(random, METHODS),
    host: pick(random, ['a.example', 'b.example', 'other']),
    path: pick(random, ['/', '/x/1', '/y']),
    ip: '192.0.2.9',
    headers,
  }
}

/** Everything an outcome consists of, as plain data. */
function outcome(d: Decision, req: RuleRequest): unknown {
  return {
    rule: d.rule,
    branch: d.branch,
    terms: d.terms.map((t) => t.explain()),
    changes: d.headerChanges,
    key: d.buildKey(req),
  }
}

describe('given random rule sets and requests', () => {
  test('should decide exactly as the unindexed scan does (500 sets x 40 requests)', () => {
    const random = makeRandom(99)
    let indexedSets = 0
    for (let s = 0; s < 500; s++) {
      const { rules, names } = randomRules(random)
      const headers = names
        .filter(() => random(2) === 0)
        .map((name) => ({ rules: [name], add: [{ name: `X-${name}`, value: '1' }] }))
      const indexed = compileRuleSet({ rules, headers })
      const plain = compileRuleSet({ rules, headers }, { methodIndex: false })
      for (let r = 0; r < 40; r++) {
        const req = randomRequest(random)
        expect(outcome(indexed.evaluate(req), req)).toEqual(outcome(plain.evaluate(req), req))
      }
      indexedSets += rules.some((r) => r.rule.startsWith('method(')) ? 1 : 0
    }
    expect(indexedSets).toBeGreaterThan(100)
  })
})
