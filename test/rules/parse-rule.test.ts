import { describe, expect, test } from 'bun:test'
import { RoxyError } from '../../src/errors.ts'
import { RuleSyntaxError, parseRule } from '../../src/rules/index.ts'
import type { ConditionDefinition, RuleDefinition, TermDefinition } from '../../src/rules/index.ts'

const BLOCK: TermDefinition[] = [{ type: 'block' }]
const PASS: TermDefinition[] = [{ type: 'pass' }]
const host = (pattern: string): ConditionDefinition => ({ type: 'host', pattern })
const rule = (
  condition: ConditionDefinition,
  then = BLOCK,
  otherwise: TermDefinition[] | null = null,
): RuleDefinition => ({
  type: 'rule',
  condition,
  then,
  else: otherwise,
})

describe('given every rule form SPEC §5 shows', () => {
  test.each<[string, RuleDefinition]>([
    ['host("*.example.com") = block', rule(host('*.example.com'))],
    ['path("/api/*") = pass', rule({ type: 'path', pattern: '/api/*' }, PASS)],
    ['method(PATCH) = block', rule({ type: 'method', method: 'PATCH' })],
    ['header("X-Api-Key") = pass', rule({ type: 'header-present', name: 'X-Api-Key' }, PASS)],
    [
      'header("X-Env:prod") = pass',
      rule({ type: 'header-equals', name: 'X-Env', value: 'prod' }, PASS),
    ],
    [
      'header("Accept~text/*") = pass',
      rule({ type: 'header-glob', name: 'Accept', pattern: 'text/*' }, PASS),
    ],
    [
      'header("Referer~https://*") = block',
      rule({ type: 'header-glob', name: 'Referer', pattern: 'https://*' }),
    ],
    ['header("X-A:b~c") = block', rule({ type: 'header-equals', name: 'X-A', value: 'b~c' })],
    ['header("X-A~b:c") = block', rule({ type: 'header-glob', name: 'X-A', pattern: 'b:c' })],
    ["host('a.example') = block", rule(host('a.example'))],
    ['host(a.example) = block', rule(host('a.example'))],
    ['host(*.a-b_c.example) = block', rule(host('*.a-b_c.example'))],
    ['path(/v?/*.json) = block', rule({ type: 'path', pattern: '/v?/*.json' })],
    ['host("{a,b}.[0-9].example") = block', rule(host('{a,b}.[0-9].example'))],
    ['method("M-SEARCH") = block', rule({ type: 'method', method: 'M-SEARCH' })],
    [
      'host(a) && path(/x) || !method(GET) = block',
      rule({
        type: 'or',
        operands: [
          { type: 'and', operands: [host('a'), { type: 'path', pattern: '/x' }] },
          { type: 'not', operand: { type: 'method', method: 'GET' } },
        ],
      }),
    ],
    [
      'host(a) && (path(/x) || path(/y)) && !!host(b) = block',
      rule({
        type: 'and',
        operands: [
          host('a'),
          {
            type: 'or',
            operands: [
              { type: 'path', pattern: '/x' },
              { type: 'path', pattern: '/y' },
            ],
          },
          { type: 'not', operand: { type: 'not', operand: host('b') } },
        ],
      }),
    ],
    ['((host(a))) = block', rule(host('a'))],
    ['method(GET) = block : pass', rule({ type: 'method', method: 'GET' }, BLOCK, PASS)],
    ['host(a) = mangle', rule(host('a'), [{ type: 'mangle' }])],
    [
      'host(a) = rate_limit(10/s, ip)',
      rule(host('a'), [{ type: 'rate-limit', limit: 10, windowSecs: 1, key: [{ type: 'ip' }] }]),
    ],
    [
      'host(a) = rate_limit(100/m, header(X-Api-Key))',
      rule(host('a'), [
        {
          type: 'rate-limit',
          limit: 100,
          windowSecs: 60,
          key: [{ type: 'header', name: 'X-Api-Key' }],
        },
      ]),
    ],
    [
      'host(a) = rate_limit(5000/h, path(*) + host(*) + ip)',
      rule(host('a'), [
        {
          type: 'rate-limit',
          limit: 5000,
          windowSecs: 3600,
          key: [{ type: 'path' }, { type: 'host' }, { type: 'ip' }],
        },
      ]),
    ],
    [
      'host(a) = credit(1000/d, header("X-Api-Key"))',
      rule(host('a'), [
        { type: 'credit', limit: 1000, period: 'd', key: [{ type: 'header', name: 'X-Api-Key' }] },
      ]),
    ],
    [
      'host(a) = credit(7/w, ip)',
      rule(host('a'), [{ type: 'credit', limit: 7, period: 'w', key: [{ type: 'ip' }] }]),
    ],
    [
      'host(a) = credit(30/M, ip)',
      rule(host('a'), [{ type: 'credit', limit: 30, period: 'M', key: [{ type: 'ip' }] }]),
    ],
    [
      'header(X-Api-Key) = credit(100/M, header(X-Api-Key)) + rate_limit(2/s, header(X-Api-Key)) + mangle',
      rule({ type: 'header-present', name: 'X-Api-Key' }, [
        { type: 'credit', limit: 100, period: 'M', key: [{ type: 'header', name: 'X-Api-Key' }] },
        {
          type: 'rate-limit',
          limit: 2,
          windowSecs: 1,
          key: [{ type: 'header', name: 'X-Api-Key' }],
        },
        { type: 'mangle' },
      ]),
    ],
    [
      'host(a) = mangle + rate_limit(1/s, ip) : block',
      rule(
        host('a'),
        [
          { type: 'mangle' },
          { type: 'rate-limit', limit: 1, windowSecs: 1, key: [{ type: 'ip' }] },
        ],
        BLOCK,
      ),
    ],
    ['  host ( a )\t=\n block  :  pass ', rule(host('a'), BLOCK, PASS)],
    ['host(a)=block:pass', rule(host('a'), BLOCK, PASS)],
    [
      'header(" X-Env : prod ") = block',
      rule({ type: 'header-equals', name: 'X-Env', value: 'prod' }),
    ],
    ['header("X-Empty:") = block', rule({ type: 'header-equals', name: 'X-Empty', value: '' })],
  ])('should parse %j', (text, expected) => {
    expect(parseRule(text)).toEqual(expected)
  })
})

describe('given keywords in any case', () => {
  test.each([
    'HOST(a) = BLOCK',
    'Host(a) = Block',
    'hOsT(a) && PATH(/x) && METHOD(GET) && HEADER(X) = PASS',
    'host(a) = RATE_LIMIT(1/s, IP)',
    'host(a) = Rate_Limit(1/s, HEADER(X) + PATH(*) + HOST(*))',
    'host(a) = CREDIT(1/M, Ip) + MANGLE',
  ])('should accept %s', (text) => {
    expect(parseRule(text).type).toBe('rule')
  })

  test('should keep arguments as written (method is exact, host folds at match time)', () => {
    expect(parseRule('METHOD(get) = block').condition).toEqual({ type: 'method', method: 'get' })
    expect(parseRule('HOST(A.Example) = block').condition).toEqual({
      type: 'host',
      pattern: 'A.Example',
    })
  })

  test.each<[string, 1 | 60 | 3600]>([
    ['s', 1],
    ['m', 60],
    ['h', 3600],
  ])('should read rate unit %s as %d seconds', (unit, secs) => {
    const then = parseRule(`host(a) = rate_limit(3/${unit}, ip)`).then[0]
    expect(then).toMatchObject({ type: 'rate-limit', windowSecs: secs })
  })

  test('should tell m (minute, rate_limit) from M (month, credit)', () => {
    expect(parseRule('host(a) = rate_limit(1/m, ip)').then[0]).toMatchObject({ windowSecs: 60 })
    expect(parseRule('host(a) = credit(1/M, ip)').then[0]).toMatchObject({ period: 'M' })
    expect(() => parseRule('host(a) = rate_limit(1/M, ip)')).toThrow(RuleSyntaxError)
    expect(() => parseRule('host(a) = credit(1/m, ip)')).toThrow(RuleSyntaxError)
  })
})

/** [rule text, column, message after "rule "r": "] */
const MALFORMED: [string, number, string][] = [
  ['', 1, "expected a condition (host, path, method, header, '!' or '('), found end of rule"],
  ['   ', 4, "expected a condition (host, path, method, header, '!' or '('), found end of rule"],
  [
    'hots(a) = block',
    1,
    `expected a condition (host, path, method, header, '!' or '('), found "hots"`,
  ],
  ['= block', 1, "expected a condition (host, path, method, header, '!' or '('), found '='"],
  ['host = block', 6, "expected '(' after host, found '='"],
  ['host() = block', 6, "expected a pattern (a bare word or a quoted string), found ')'"],
  ['host("") = block', 7, 'expected a non-empty pattern, found an empty string'],
  ['host(a.com = block', 12, "expected ')' after the host argument, found '='"],
  ['host(a b) = block', 8, "expected ')' after the host argument, found 'b'"],
  [
    'host(a[1]) = block',
    7,
    "expected ')' after the host argument, found '[' (quote the argument to use this character)",
  ],
  [
    'header(X-Env:prod) = block',
    13,
    "expected ')' after the header argument, found ':' (quote the argument to use this character)",
  ],
  [
    'host("abc) = block',
    19,
    `expected a closing '"', found end of rule (the string opens at column 6)`,
  ],
  [
    "host('abc) = block",
    19,
    `expected a closing "'", found end of rule (the string opens at column 6)`,
  ],
  ['host(a) block', 9, `expected '&&', '||' or '=', found "block"`],
  ['host(a) & host(b) = block', 9, "expected '&&', '||' or '=', found '&'"],
  ['host(a) | host(b) = block', 9, "expected '&&', '||' or '=', found '|'"],
  [
    'host(a) && = block',
    12,
    "expected a condition (host, path, method, header, '!' or '('), found '='",
  ],
  ['(host(a) = block', 10, "expected '&&', '||' or ')', found '='"],
  ['host(a)) = block', 8, "expected '&&', '||' or '=', found ')'"],
  ['! = block', 3, "expected a condition (host, path, method, header, '!' or '('), found '='"],
  [
    'host(a) =',
    10,
    'expected an action (block, pass, mangle, rate_limit or credit), found end of rule',
  ],
  [
    'host(a) = drop',
    11,
    'expected an action (block, pass, mangle, rate_limit or credit), found "drop"',
  ],
  ['host(a) = block extra', 17, `expected ':' or end of rule, found "extra"`],
  ['host(a) = block : pass : pass', 24, "expected end of rule, found ':'"],
  [
    'host(a) = block :',
    18,
    'expected an action (block, pass, mangle, rate_limit or credit), found end of rule',
  ],
  [
    'host(a) = block + mangle',
    17,
    "expected ':' or end of rule, found '+' (block and pass cannot be combined with other actions)",
  ],
  [
    'host(a) = mangle + pass',
    20,
    'expected rate_limit or credit after \'+\', found "pass" (block and pass cannot be combined with other actions)',
  ],
  [
    'host(a) = mangle + mangle',
    20,
    `expected rate_limit or credit after '+', found "mangle" (mangle appears twice; each action appears at most once)`,
  ],
  ['host(a) = mangle +', 19, "expected rate_limit or credit after '+', found end of rule"],
  [
    'host(a) = mangle + credit(1/d, ip) + rate_limit(1/s, ip) + mangle',
    58,
    "expected ':' or end of rule, found '+' (rate_limit, credit and mangle each appear at most once)",
  ],
  [
    'host(a) = mangle : block + pass',
    26,
    "expected end of rule, found '+' (block and pass cannot be combined with other actions)",
  ],
  ['host(a) = rate_limit', 21, "expected '(' after rate_limit, found end of rule"],
  ['host(a) = rate_limit(/s, ip)', 22, "expected a whole number from 1 to 1000000000, found '/'"],
  ['host(a) = rate_limit(0/s, ip)', 22, "expected a whole number from 1 to 1000000000, found '0'"],
  [
    'host(a) = rate_limit(1000000001/s, ip)',
    22,
    'expected a whole number from 1 to 1000000000, found "1000000001"',
  ],
  ['host(a) = rate_limit(-1/s, ip)', 22, "expected a whole number from 1 to 1000000000, found '-'"],
  [
    'host(a) = rate_limit(1.5/s, ip)',
    23,
    "expected '/' and a unit after the number, as in 10/s, found '.'",
  ],
  [
    'host(a) = rate_limit(10 s, ip)',
    25,
    "expected '/' and a unit after the number, as in 10/s, found 's'",
  ],
  ['host(a) = rate_limit(10/d, ip)', 25, "expected s, m or h (second, minute, hour), found 'd'"],
  [
    'host(a) = rate_limit(10/M, ip)',
    25,
    "expected s, m or h (second, minute, hour), found 'M' (M is months, for credit; minutes are m)",
  ],
  [
    'host(a) = rate_limit(10/S, ip)',
    25,
    "expected s, m or h (second, minute, hour), found 'S' (units are case-sensitive)",
  ],
  [
    'host(a) = rate_limit(10/sec, ip)',
    25,
    'expected s, m or h (second, minute, hour), found "sec"',
  ],
  ['host(a) = rate_limit(10/s)', 26, "expected ',' and a key after the unit, found ')'"],
  [
    'host(a) = rate_limit(10/s, )',
    28,
    "expected a key (header(NAME), path(*), host(*) or ip), found ')'",
  ],
  [
    'host(a) = rate_limit(10/s, user)',
    28,
    'expected a key (header(NAME), path(*), host(*) or ip), found "user"',
  ],
  [
    'host(a) = rate_limit(10/s, ip',
    30,
    "expected '+' and another key part, or ')', found end of rule",
  ],
  [
    'host(a) = rate_limit(10/s, ip +)',
    32,
    "expected a key (header(NAME), path(*), host(*) or ip), found ')'",
  ],
  [
    'host(a) = rate_limit(10/s, path(/x))',
    33,
    "expected '*', found '/' (in a key, path(*) stands for the whole path)",
  ],
  [
    'host(a) = rate_limit(10/s, host(a))',
    33,
    "expected '*', found 'a' (in a key, host(*) stands for the whole host)",
  ],
  ['host(a) = rate_limit(10/s, header())', 35, "expected a header name, found ')'"],
  ['host(a) = rate_limit(10/s, header(""))', 36, 'expected a header name, found an empty string'],
  [
    'host(a) = credit(10/m, ip)',
    21,
    "expected d, w or M (day, week, month), found 'm' (m is minutes, for rate_limit; months are M)",
  ],
  [
    'host(a) = credit(10/D, ip)',
    21,
    "expected d, w or M (day, week, month), found 'D' (units are case-sensitive)",
  ],
  ['host(a) = credit(10/y, ip)', 21, "expected d, w or M (day, week, month), found 'y'"],
  [
    'host(a) = credit(10, ip)',
    20,
    "expected '/' and a period after the number, as in 1000/d, found ','",
  ],
  ['method() = block', 8, "expected a method such as GET, found ')'"],
  [
    'method("G T") = block',
    10,
    "expected a method name (letters, digits and !#$%&'*+-.^_`|~), found ' '",
  ],
  ['header("") = block', 9, 'expected a header name, found an empty string'],
  ['header(":v") = block', 9, "expected a header name, found ':'"],
  [
    'header("X Y") = block',
    10,
    "expected a header name (letters, digits and !#$%&'*+-.^_`|~), found ' '",
  ],
  ['header("X~[a") = block', 13, "expected ']' to close the character class, found end of pattern"],
  [
    'host("[z-a]") = block',
    8,
    "expected a range whose first character is not after its last, found 'z'",
  ],
  [
    'host("{a,b") = block',
    11,
    "expected ',' or '}' to close the alternatives, found end of pattern",
  ],
  ['host("a\\") = block', 9, "expected a character after '\\', found end of pattern"],
  [
    'path("/{a,{b,c}") = block',
    16,
    "expected ',' or '}' to close the alternatives, found end of pattern",
  ],
  ['host(a) = block\u0001', 16, "expected ':' or end of rule, found character U+0001"],
]

describe('given a malformed rule', () => {
  test.each(MALFORMED)('%p should fail at column %d', (text, column, detail) => {
    let error: unknown
    try {
      parseRule(text, 'r')
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(RuleSyntaxError)
    const e = error as RuleSyntaxError
    expect(e).toBeInstanceOf(RoxyError)
    expect(e.code).toBe('ROXY_E_RULE_SYNTAX')
    expect(e.column).toBe(column)
    expect(e.detail).toBe(detail)
    expect(e.message.split('\n')[0]).toBe(`rule "r": column ${column}: ${detail}`)
  })
})

describe('given a syntax error message', () => {
  test('should show the rule text with a caret under the column', () => {
    const e = catchSyntax(() => parseRule('host(a.com = block', 'api'))
    expect(e.message).toBe(
      [
        `rule "api": column 12: expected ')' after the host argument, found '='`,
        '  host(a.com = block',
        '             ^',
      ].join('\n'),
    )
    expect(e.rule).toBe('api')
    expect(e.expected).toBe("')' after the host argument")
    expect(e.found).toBe("'='")
  })

  test('should leave out the rule name when there is none', () => {
    expect(catchSyntax(() => parseRule('host(a) =')).message.split('\n')[0]).toStartWith(
      'column 10: expected an action',
    )
  })

  test('should keep the caret aligned when the text holds tabs and newlines', () => {
    const lines = catchSyntax(() => parseRule('host(a)\n\t= drop')).message.split('\n')
    expect(lines[1]).toBe('  host(a)  = drop')
    expect(lines[2].indexOf('^')).toBe(lines[1].indexOf('drop'))
  })

  test('should show a window around the column of a long rule', () => {
    const text = `host(a) && ${'path(/x) && '.repeat(40)}path(/y) = drop`
    const lines = catchSyntax(() => parseRule(text)).message.split('\n')
    expect(lines[1].length).toBeLessThan(90)
    expect(lines[1]).toStartWith('  ...')
    expect(lines[1][lines[2].indexOf('^')]).toBe('d')
  })
})

describe('given deep nesting', () => {
  const nested = (open: string, close: string, n: number) =>
    `${open.repeat(n)}host(a)${close.repeat(n)} = block`

  test.each([
    ['(', ')', 32, "'('"],
    ['!', '', 32, "'!'"],
    ['!(', ')', 16, "'!'"],
  ])('should accept 32 levels of %p and refuse the 33rd', (open, close, ok, found) => {
    expect(parseRule(nested(open, close, ok)).type).toBe('rule')
    const e = catchSyntax(() => parseRule(nested(open, close, ok + 1)))
    expect(e.column).toBe(33)
    expect(e.detail).toBe(
      `expected at most 32 levels of '(' and '!', found ${found} (simplify the condition)`,
    )
  })

  test('should fail fast on 100000 open parentheses', () => {
    expect(catchSyntax(() => parseRule('('.repeat(100_000))).column).toBe(33)
  })
})

function catchSyntax(run: () => unknown): RuleSyntaxError {
  try {
    run()
  } catch (err) {
    if (err instanceof RuleSyntaxError) {
      return err
    }
    throw err
  }
  throw new Error('expected a RuleSyntaxError')
}
