import { compileGlob } from './compile-glob.ts'
import type { Glob } from './compile-glob.ts'
import { REDACTED, isSecretHeader } from './secret-headers.ts'
import { assertNever } from './rule-definition.ts'
import type { ConditionDefinition } from './rule-definition.ts'
import { collectHeaderValues, findHeaderValue, toLowerAscii } from './rule-request.ts'
import type { RuleRequest } from './rule-request.ts'

/** A compiled condition: a closure over precompiled globs, plus its description. */
export interface Matcher {
  readonly definition: ConditionDefinition
  /** Children of and/or/not, in written order; empty for leaves. */
  readonly operands: readonly Matcher[]
  /** Synchronous, allocation-free. */
  test(req: RuleRequest): boolean
  /** What it checks, e.g. `host matches "*.example.com"`. */
  explain(): string
  /** What it saw in `req`, e.g. `host "a.example"` (for `roxy explain`). */
  observe(req: RuleRequest): string
}

type Test = (req: RuleRequest) => boolean

export function compileCondition(def: ConditionDefinition): Matcher {
  switch (def.type) {
    case 'host': {
      const glob = compileGlob(def.pattern, { ignoreCase: true })
      const test = glob.test
      return globMatcher(
        def,
        'host',
        glob,
        (req) => test(req.host),
        (req) => req.host,
      )
    }
    case 'path': {
      const glob = compileGlob(def.pattern)
      const test = glob.test
      return globMatcher(
        def,
        'path',
        glob,
        (req) => test(req.path),
        (req) => req.path,
      )
    }
    case 'method': {
      const method = def.method
      const observe = (req: RuleRequest) => `method ${req.method}`
      return leaf(def, (req) => req.method === method, `method is ${method}`, observe)
    }
    case 'header-present':
    case 'header-equals':
    case 'header-glob':
      return compileHeaderMatcher(def)
    case 'not':
      return compileNot(def)
    case 'and':
    case 'or':
      return compileChain(def)
    default:
      return assertNever(def)
  }
}

function leaf(
  def: ConditionDefinition,
  test: Test,
  text: string,
  observe: Matcher['observe'],
): Matcher {
  return { definition: def, operands: [], test, explain: () => text, observe }
}

/** host() and path(): `test` reads the field directly (one closure call less per rule). */
function globMatcher(
  def: ConditionDefinition,
  what: string,
  glob: Glob,
  test: Test,
  read: (req: RuleRequest) => string,
): Matcher {
  const observe = (req: RuleRequest) => `${what} ${JSON.stringify(read(req))}`
  return leaf(def, test, `${what} ${glob.explain()}`, observe)
}

function compileHeaderMatcher(def: ConditionDefinition & { name: string }): Matcher {
  const lower = toLowerAscii(def.name)
  const observe = (req: RuleRequest) => observeHeader(req, def.name, lower)
  switch (def.type) {
    case 'header-present':
      return leaf(
        def,
        (req) => findHeaderValue(req.headers, lower) >= 0,
        `header ${def.name} is present`,
        observe,
      )
    case 'header-equals': {
      const value = def.value
      const equals = (candidate: string) => candidate === value
      const test = (req: RuleRequest) => someHeaderValue(req.headers, lower, equals)
      return leaf(def, test, `header ${def.name} is ${JSON.stringify(value)}`, observe)
    }
    case 'header-glob': {
      const glob = compileGlob(def.pattern)
      const test = (req: RuleRequest) => someHeaderValue(req.headers, lower, glob.test)
      return leaf(def, test, `header ${def.name} ${glob.explain()}`, observe)
    }
    default:
      throw new Error(`not a header matcher: ${def.type}`)
  }
}

/** Does any value of header `lower` pass `check`? Walks the flat list without allocating. */
function someHeaderValue(
  headers: readonly string[],
  lower: string,
  check: (value: string) => boolean,
): boolean {
  for (
    let i = findHeaderValue(headers, lower);
    i >= 0;
    i = findHeaderValue(headers, lower, i + 1)
  ) {
    if (check(headers[i])) {
      return true
    }
  }
  return false
}

function observeHeader(req: RuleRequest, name: string, lower: string): string {
  const values = collectHeaderValues(req.headers, lower)
  if (values.length === 0) {
    return `no ${name} header`
  }
  const shown = isSecretHeader(lower)
    ? values.map(() => REDACTED)
    : values.map((v) => JSON.stringify(v))
  return `${name}: ${shown.join(', ')}`
}

function compileNot(def: ConditionDefinition & { type: 'not' }): Matcher {
  const inner = compileCondition(def.operand)
  const test = inner.test
  return {
    definition: def,
    operands: [inner],
    test: (req) => !test(req),
    explain: () => `not (${inner.explain()})`,
    observe: (req) => inner.observe(req),
  }
}

/** `&&` / `||` chains short-circuit; two operands (the usual case) get a direct closure. */
function compileChain(def: ConditionDefinition & { type: 'and' | 'or' }): Matcher {
  const operands = def.operands.map(compileCondition)
  const isAnd = def.type === 'and'
  const word = isAnd ? ' and ' : ' or '
  return {
    definition: def,
    operands,
    test: isAnd ? buildAnd(operands.map((m) => m.test)) : buildOr(operands.map((m) => m.test)),
    explain: () => operands.map((m) => wrap(m)).join(word),
    observe: (req) => operands.map((m) => m.observe(req)).join('; '),
  }
}

function wrap(m: Matcher): string {
  const type = m.definition.type
  return type === 'and' || type === 'or' ? `(${m.explain()})` : m.explain()
}

function buildAnd(tests: Test[]): Test {
  if (tests.length === 2) {
    const [a, b] = tests
    return (req) => a(req) && b(req)
  }
  return (req) => {
    for (let i = 0; i < tests.length; i++) {
      if (!tests[i](req)) {
        return false
      }
    }
    return true
  }
}

function buildOr(tests: Test[]): Test {
  if (tests.length === 2) {
    const [a, b] = tests
    return (req) => a(req) || b(req)
  }
  return (req) => {
    for (let i = 0; i < tests.length; i++) {
      if (tests[i](req)) {
        return true
      }
    }
    return false
  }
}
