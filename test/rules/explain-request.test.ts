import { describe, expect, test } from 'bun:test'
import { compileRuleSet, explainRequest } from '../../src/rules/index.ts'
import type { RuleRequest } from '../../src/rules/index.ts'

const set = compileRuleSet({
  rules: [
    { name: 'bad', rule: 'host("*.bad.example") = block' },
    {
      name: 'api',
      rule: 'host(api.example.com) && header(X-Api-Key) = rate_limit(10/s, header(X-Api-Key)) + mangle',
    },
    { name: 'tag', rule: 'header("X-Env:prod") = mangle' },
    { name: 'gate', rule: 'method(GET) = pass : block' },
    { name: 'never', rule: 'host(*) = pass' },
  ],
  headers: [
    { rules: ['api'], remove: ['X-Debug'] },
    { rules: ['tag'], add: [{ name: 'X-Env-Seen', value: '1' }] },
  ],
})

const request = (over: Partial<RuleRequest>): RuleRequest => ({
  method: 'GET',
  host: 'api.example.com',
  path: '/v1',
  ip: '192.0.2.1',
  headers: [],
  ...over,
})

describe('given a request that a limit rule decides', () => {
  const text = explainRequest(
    set,
    request({ headers: ['X-Api-Key', 'k1', 'X-Env', 'prod', 'Authorization', 'Bearer s3cret'] }),
  )

  test('should show each rule with whether it held and why', () => {
    expect(text).toContain(
      '#1 "bad": host("*.bad.example") = block\n   does not hold: host matches "*.bad.example" (got host "api.example.com")',
    )
    expect(text).toContain(
      '   holds: host is "api.example.com" (got host "api.example.com"); header X-Api-Key is present (got X-Api-Key: "k1") -> decides (then)',
    )
  })

  test('should say why evaluation stopped and what later mangle rules add', () => {
    expect(text).toContain(
      'stopped: first rule whose condition holds decides; later mangle rules whose condition holds still add header changes',
    )
    expect(text).toContain(
      '#3 "tag": header("X-Env:prod") = mangle\n   after the decision: holds, its header changes apply: header X-Env is "prod" (got X-Env: "prod")',
    )
    expect(text).toContain('#5 "never": host(*) = pass\n   after the decision: not considered')
  })

  test('should give the decision, key, logged headers and header changes', () => {
    expect(text).toContain(
      'decision: rule "api" (#2, then): rate_limit 10 per second, key header X-Api-Key',
    )
    expect(text).toContain('rate-limit key: "k1" (header-keyed: the per-IP baseline applies too)')
    expect(text).toContain('logged headers: X-Api-Key="k1"')
    expect(text).toContain(
      'header changes: remove X-Debug; add X-Env-Seen: 1 (when the limits allow it)',
    )
  })

  test('should never print a secret header value', () => {
    expect(text).toContain('Authorization: [redacted]')
    expect(text).not.toContain('s3cret')
  })
})

describe('given a request that a ternary decides through its else branch', () => {
  test('should say so and show the block', () => {
    const text = explainRequest(set, request({ method: 'POST', host: 'web.example' }))
    expect(text).toContain('-> decides (else)')
    expect(text).toContain('stopped: block stops everything (no limits, no header changes)')
    expect(text).toContain('header changes: none (blocked)')
  })
})

describe('given a request no rule matches', () => {
  test('should say it is forwarded unchanged', () => {
    const text = explainRequest(
      compileRuleSet({ rules: [{ name: 'x', rule: 'host(x) = block' }] }),
      request({}),
    )
    expect(text).toContain('stopped: no rule matched')
    expect(text).toContain('decision: no rule matched: forward')
    expect(text).toContain('header changes: none')
  })
})
