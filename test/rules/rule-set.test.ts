import { describe, expect, test } from 'bun:test'
import {
  MISSING_KEY_PART,
  NO_RULE_DECISION,
  RuleSyntaxError,
  applyHeaderChanges,
  compileRuleSet,
  evaluate,
} from '../../src/rules/index.ts'
import type { HeaderEntry, RuleEntry, RuleRequest } from '../../src/rules/index.ts'

const request = (over: Partial<RuleRequest> = {}): RuleRequest => ({
  method: 'GET',
  host: 'api.example.com',
  path: '/v1/items',
  ip: '203.0.113.7',
  headers: [],
  ...over,
})

const rules = (...texts: string[]): RuleEntry[] =>
  texts.map((rule, i) => ({ name: `r${i + 1}`, rule }))

describe('given rules in order', () => {
  test('should let the first rule whose condition holds decide', () => {
    const set = compileRuleSet({
      rules: rules('host(other) = block', 'host(api.*) = pass', 'host(*) = block'),
    })
    const d = set.evaluate(request())
    expect(d.rule).toEqual({ name: 'r2', index: 1, logLevel: 'info' })
    expect(d.branch).toBe('then')
    expect(d.terms.map((t) => t.type)).toEqual(['pass'])
    expect(d.block).toBe(false)
  })

  test('should forward (no rule) when nothing matches', () => {
    const d = evaluate(compileRuleSet({ rules: rules('host(other) = block') }), request())
    expect(d).toBe(NO_RULE_DECISION)
    expect(d.rule).toBeNull()
    expect(d.terms).toEqual([])
    expect(d.explain()).toBe('no rule matched: forward')
  })

  test('should forward everything with no rules at all', () => {
    expect(compileRuleSet({ rules: [] }).evaluate(request()).rule).toBeNull()
  })

  test('should decide with the else branch of a ternary whose condition fails', () => {
    const set = compileRuleSet({ rules: rules('method(GET) = block : pass', 'host(*) = block') })
    const post = set.evaluate(request({ method: 'POST' }))
    expect([post.rule?.name, post.branch, post.block]).toEqual(['r1', 'else', false])
    const get = set.evaluate(request())
    expect([get.rule?.name, get.branch, get.block]).toEqual(['r1', 'then', true])
  })

  test('should return the same shared decision for the same outcome', () => {
    const set = compileRuleSet({ rules: rules('host(api.*) = rate_limit(5/s, ip)') })
    expect(set.evaluate(request())).toBe(set.evaluate(request({ ip: '10.0.0.1' })))
  })

  test('should read the rule log level in any case and default to info', () => {
    const set = compileRuleSet({
      rules: [
        { name: 'quiet', rule: 'path(/health) = pass', log_level: 'OFF' },
        { name: 'loud', rule: 'host(*) = pass' },
      ],
    })
    expect(set.evaluate(request({ path: '/health' })).rule?.logLevel).toBe('off')
    expect(set.evaluate(request()).rule?.logLevel).toBe('info')
  })
})

describe('given conditions', () => {
  test.each<[string, Partial<RuleRequest>, boolean]>([
    ['host(API.Example.com)', {}, true],
    ['host(*.example.com)', { host: 'API.EXAMPLE.COM' }, true],
    ['path(/V1/*)', {}, false],
    ['path(/v1/*)', {}, true],
    ['method(GET)', {}, true],
    ['method(get)', {}, false],
    ['method(BREW)', { method: 'BREW' }, true],
    ['header(x-api-key)', { headers: ['X-API-KEY', 'k'] }, true],
    ['header(X-Api-Key)', { headers: ['X-Other', 'k'] }, false],
    ['header("X-Env:prod")', { headers: ['x-env', 'prod'] }, true],
    ['header("X-Env:prod")', { headers: ['X-Env', 'Prod'] }, false],
    ['header("X-Env:prod")', { headers: ['X-Env', 'dev', 'X-Env', 'prod'] }, true],
    ['header("Referer~https://*")', { headers: ['Referer', 'https://a/b'] }, true],
    ['header("Referer~https://*")', { headers: ['Referer', 'http://a/b'] }, false],
    ['header("X-Url~http:*")', { headers: ['X-Url', 'http://a'] }, true],
    ['!header(X-Api-Key)', {}, true],
    ['host(a) || path(/v1/*)', {}, true],
    ['host(a) && path(/v1/*)', {}, false],
    ['host(a) || host(b) || !(method(POST) || method(PUT))', {}, true],
    ['host(a) && host(b) && host(c) || path(/v1/items)', {}, true],
    ['(host(a) || method(GET)) && (path(/x) || path(/v1/*))', {}, true],
  ])('%s with %j should be %p', (condition, over, expected) => {
    const set = compileRuleSet({ rules: rules(`${condition} = block`) })
    expect(set.evaluate(request(over)).block).toBe(expected)
  })

  test.each([
    ['host(other) && header(X)', false],
    ['host(api.*) || header(X)', true],
  ])('%s should short-circuit before reading headers', (condition, block) => {
    let reads = 0
    const req = { ...request() }
    Object.defineProperty(req, 'headers', {
      get: () => {
        reads++
        return ['X', '1']
      },
    })
    expect(compileRuleSet({ rules: rules(`${condition} = block`) }).evaluate(req).block).toBe(block)
    expect(reads).toBe(0)
  })
})

describe('given mangle rules and headers entries', () => {
  const headers: HeaderEntry[] = [
    { rules: ['tag-env'], add: [{ name: 'X-Env-Seen', value: '1' }] },
    { rules: ['api', 'tag-env'], remove: ['X-Debug'], add: [{ name: 'X-Via', value: 'roxy' }] },
    { rules: ['late'], add: [{ name: 'X-Late', value: '1' }] },
    { rules: ['else-side'], add: [{ name: 'X-Else', value: '1' }] },
  ]
  const entries: RuleEntry[] = [
    { name: 'blocked', rule: 'path(/admin/*) = block' },
    { name: 'api', rule: 'host(api.*) = pass' },
    { name: 'tag-env', rule: 'header(X-Env) = mangle' },
    { name: 'not-mangle', rule: 'host(*) = pass' },
    { name: 'else-side', rule: 'path(/never) = block : mangle' },
    { name: 'late', rule: 'host(*) = mangle' },
  ]
  const set = compileRuleSet({ rules: entries, headers })

  test('should add the changes of later mangle rules even after pass decided', () => {
    const d = set.evaluate(request({ headers: ['X-Env', 'prod'] }))
    expect(d.rule?.name).toBe('api')
    expect(d.mangle).toBe(false)
    // Entries apply once each, in config order; #2 names both api and tag-env.
    // The ternary else-side (mangle in its else branch) applies and ends the walk: late never adds.
    expect(d.headerChanges).toEqual([
      { op: 'add', name: 'X-Env-Seen', value: '1' },
      { op: 'remove', name: 'X-Debug' },
      { op: 'add', name: 'X-Via', value: 'roxy' },
      { op: 'add', name: 'X-Else', value: '1' },
    ])
  })

  test('should skip mangle rules whose condition fails', () => {
    const d = set.evaluate(request())
    expect(d.headerChanges.map((c) => c.name)).toEqual(['X-Else'])
  })

  test('should apply nothing when block decides', () => {
    const d = set.evaluate(request({ path: '/admin/x', headers: ['X-Env', 'prod'] }))
    expect(d.block).toBe(true)
    expect(d.headerChanges).toEqual([])
  })

  test("should apply the deciding rule's own mangle", () => {
    const d = set.evaluate(request({ host: 'web.example', headers: ['X-Env', 'prod'] }))
    expect([d.rule?.name, d.mangle]).toEqual(['tag-env', true])
    expect(d.headerChanges.map((c) => c.name)).toEqual(['X-Env-Seen', 'X-Debug', 'X-Via', 'X-Else'])
  })

  test('should reuse the decision built for the same set of changes', () => {
    const req = request({ headers: ['X-Env', 'prod'] })
    expect(set.evaluate(req)).toBe(set.evaluate(req))
  })

  test('should apply changes to a flat header list: removes by any case, adds appended', () => {
    const d = set.evaluate(request({ headers: ['X-Env', 'prod'] }))
    const out = applyHeaderChanges(
      ['x-debug', '1', 'Accept', '*/*', 'X-DEBUG', '2'],
      d.headerChanges,
    )
    expect(out).toEqual(['Accept', '*/*', 'X-Env-Seen', '1', 'X-Via', 'roxy', 'X-Else', '1'])
    const same = ['A', '1']
    expect(applyHeaderChanges(same, [])).toBe(same)
  })
})

describe('given limit keys', () => {
  const keyOf = (rule: string, over: Partial<RuleRequest> = {}) => {
    const d = compileRuleSet({ rules: [{ name: 'k', rule }] }).evaluate(request(over))
    return { key: d.buildKey(request(over)), headerKeyed: d.headerKeyed }
  }

  test.each<[string, Partial<RuleRequest>, string, boolean]>([
    ['rate_limit(1/s, ip)', {}, '203.0.113.7', false],
    ['rate_limit(1/s, ip)', { ip: '' }, MISSING_KEY_PART, false],
    ['rate_limit(1/s, ip)', { ip: '2001:db8::1' }, '2001:db8::1', false],
    ['rate_limit(1/s, header(X-Api-Key))', { headers: ['x-api-key', 'k1'] }, 'k1', true],
    ['rate_limit(1/s, header(X-Api-Key))', {}, '-', true],
    ['rate_limit(1/s, header(X-Api-Key))', { headers: ['X-Api-Key', '-'] }, '%2D', true],
    ['rate_limit(1/s, header(X-Api-Key))', { headers: ['X-Api-Key', 'a:b%c'] }, 'a%3Ab%25c', true],
    [
      'rate_limit(1/s, header(X-Api-Key))',
      { headers: ['X-Api-Key', 'a', 'X-Api-Key', 'b'] },
      'a',
      true,
    ],
    [
      'credit(9/d, header(X-Api-Key) + ip)',
      { headers: ['X-Api-Key', 'k1'] },
      'k1:203.0.113.7',
      true,
    ],
    ['credit(9/d, header(A) + header(B))', { headers: ['B', 'x'] }, '-:x', true],
    ['rate_limit(1/m, path(*) + host(*))', {}, '/v1/items:api.example.com', false],
    ['rate_limit(1/m, host(*))', { host: '::1' }, '%3A%3A1', false],
    ['mangle', {}, '', false],
  ])('%s for %j should build key %p', (action, over, key, headerKeyed) => {
    expect(keyOf(`host(*) = ${action}`, over)).toEqual({ key, headerKeyed })
  })

  test('should expose each term of a composite with its own key', () => {
    const set = compileRuleSet({
      rules: rules('host(*) = rate_limit(2/s, ip) + credit(100/M, header(X-Api-Key)) + mangle'),
    })
    const req = request({ headers: ['X-Api-Key', 'k'] })
    const d = set.evaluate(req)
    expect(d.rateLimit).toMatchObject({ type: 'rate-limit', limit: 2, windowSecs: 1 })
    expect(d.credit).toMatchObject({ type: 'credit', limit: 100, period: 'M' })
    expect(d.rateLimit?.key.build(req)).toBe('203.0.113.7')
    expect(d.credit?.key.build(req)).toBe('k')
    expect(d.buildKey(req)).toBe('203.0.113.7')
    expect(d.headerKeyed).toBe(true)
    expect(d.mangle).toBe(true)
  })
})

describe('given a deciding rule that references headers', () => {
  test('should log the values of up to 8 of them, secret ones redacted', () => {
    const names = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I']
    const condition = names.map((n) => `!header(${n})`).join(' || ')
    const set = compileRuleSet({
      rules: [
        {
          name: 'h',
          rule: `header(Authorization) || ${condition} = rate_limit(1/s, header(cookie))`,
        },
      ],
    })
    const req = request({
      headers: ['authorization', 'Bearer x', 'A', '1', 'a', '2', 'Cookie', 'c=1', 'I', '9'],
    })
    const d = set.evaluate(req)
    expect(d.loggedHeaderNames).toEqual(['Authorization', 'A', 'B', 'C', 'D', 'E', 'F', 'G'])
    expect(d.loggedHeaders(req)).toEqual({ Authorization: '[redacted]', A: '1, 2' })
  })

  test('should name headers of the keys too, and log nothing for a rule without headers', () => {
    const set = compileRuleSet({
      rules: rules('path(/x) = pass', 'host(*) = credit(1/d, header(Cookie) + ip)'),
    })
    const req = request({ headers: ['Cookie', 'sid=1'] })
    expect(set.evaluate(req).loggedHeaders(req)).toEqual({ Cookie: '[redacted]' })
    const none = set.evaluate(request({ path: '/x' }))
    expect(none.loggedHeaders(req)).toEqual({})
    expect(none.loggedHeaders(req)).toBe(none.loggedHeaders(request()))
  })
})

describe('given a broken config', () => {
  test('should name the rule that does not parse', () => {
    expect(() => compileRuleSet({ rules: [{ name: 'bad', rule: 'host(' }] })).toThrow(
      RuleSyntaxError,
    )
    expect(() => compileRuleSet({ rules: [{ name: 'bad', rule: 'host(' }] })).toThrow(
      /^rule "bad": column 6/,
    )
  })

  test.each<[string, RuleEntry[], HeaderEntry[]]>([
    [
      'a duplicate rule name',
      rules('host(a) = pass', 'host(b) = pass').map((r) => ({ ...r, name: 'x' })),
      [],
    ],
    ['an unknown log level', [{ name: 'x', rule: 'host(a) = pass', log_level: 'loud' }], []],
    ['a headers entry naming no rule', rules('host(a) = mangle'), [{ rules: ['nope'], add: [] }]],
  ])('should refuse %s with ROXY_E_CONFIG_INVALID', (_, entries, headers) => {
    expect(() => compileRuleSet({ rules: entries, headers })).toThrow(
      expect.objectContaining({ code: 'ROXY_E_CONFIG_INVALID' }),
    )
  })
})

describe('given compiled terms and matchers', () => {
  test('should explain themselves', () => {
    const set = compileRuleSet({
      rules: rules(
        'host(*.x) && !header("A:b") || header("R~h*") = rate_limit(3/h, ip + header(K)) : block',
      ),
    })
    const rule = set.rules[0]
    expect(rule.condition.explain()).toBe(
      '(host matches "*.x" and not (header A is "b")) or header R matches "h*"',
    )
    expect(rule.then.terms[0].explain()).toBe('rate_limit 3 per hour, key ip + header K')
    expect(rule.else?.terms[0].explain()).toBe('block (answer 403)')
    expect(rule.else?.terms[0].final).toBe(true)
    expect(set.evaluate(request()).explain()).toBe('rule "r1" (#1, else): block (answer 403)')
  })
})
