/**
 * Evaluating rules that extract nothing allocates nothing after warm-up.
 * Counts heap objects (not time): the sum of heapStats().objectTypeCounts,
 * which includes cells not yet collected, before and after the evaluations.
 */
import { heapStats } from 'bun:jsc'
import { describe, expect, test } from 'bun:test'
import { compileRuleSet } from '../../src/rules/index.ts'
import type { RuleRequest, RuleSet } from '../../src/rules/index.ts'

const EVALUATIONS = 20_000

function countObjects(): number {
  const counts = heapStats().objectTypeCounts as Record<string, number>
  let total = 0
  for (const type in counts) {
    total += counts[type]
  }
  return total
}

function objectsPerEvaluation(set: RuleSet, req: RuleRequest, withKey: boolean): number {
  let sink = 0
  const run = (times: number) => {
    for (let i = 0; i < times; i++) {
      const d = set.evaluate(req)
      sink += 1 + (withKey ? d.buildKey(req).length : d.terms.length)
    }
  }
  run(EVALUATIONS) // warm up the JIT and the decision cache
  Bun.gc(true)
  const overhead = -countObjects() + countObjects()
  Bun.gc(true)
  const before = countObjects()
  run(EVALUATIONS)
  const after = countObjects()
  expect(sink).toBeGreaterThan(0)
  return (after - before - overhead) / EVALUATIONS
}

const rules = [
  'host("*.blocked.example") = block',
  'path("/v{1,2}/admin/*") && !header(X-Admin) = block',
  'method(POST) && header("Content-Type~multipart/*") = block',
  'path(/v3) = pass',
  'header("X-Env:prod") = mangle',
  'host(api.example.com) && path(/v1/*) = rate_limit(10/s, header(X-Api-Key))',
  'host(*.example.com) = pass',
].map((rule, i) => ({ name: `r${i}`, rule }))
const set = compileRuleSet({
  rules,
  headers: [{ rules: ['r4'], add: [{ name: 'X-Seen', value: '1' }] }],
})

const request = (over: Partial<RuleRequest>): RuleRequest => ({
  method: 'GET',
  host: 'www.example.com',
  path: '/',
  ip: '192.0.2.1',
  headers: ['Accept', '*/*', 'User-Agent', 'test'],
  ...over,
})

describe('given warmed-up rules', () => {
  test.each<[string, RuleRequest, string | null, boolean]>([
    ['a block on a host glob', request({ host: 'x.blocked.example' }), 'r0', false],
    ['a block through an NFA glob', request({ path: '/v2/admin/users' }), 'r1', false],
    ['a pass after most rules are scanned', request({}), 'r6', false],
    [
      'a pass plus a later mangle',
      request({ path: '/v3', headers: ['X-Env', 'prod'] }),
      'r3',
      false,
    ],
    ['no rule at all', request({ method: 'BREW', host: 'other.test' }), null, false],
    [
      'a rate limit keyed by one header',
      request({ host: 'api.example.com', path: '/v1/x', headers: ['X-Api-Key', 'k'] }),
      'r5',
      true,
    ],
  ])('%s should allocate no object per evaluation', (_, req, rule, withKey) => {
    expect(set.evaluate(req).rule?.name ?? null).toBe(rule)
    expect(objectsPerEvaluation(set, req, withKey)).toBeLessThan(0.01)
  })

  test('the later mangle should have added its change', () => {
    expect(
      set.evaluate(request({ path: '/v3', headers: ['X-Env', 'prod'] })).headerChanges,
    ).toEqual([{ op: 'add', name: 'X-Seen', value: '1' }])
  })
})
