/**
 * Regression: a ternary's else branch must fire for every method.
 *
 * Symptom (the failure this guards against): with rules indexed by method,
 * `method(GET) = block : pass` blocked GET but let POST fall through to later
 * rules, because the rule sat only in the GET list.
 * Root cause: indexing by the methods a condition can hold for is only sound
 * for rules that decide when their condition holds; a ternary decides always.
 * Fix: ternaries go in every method's list (src/rules/method-index.ts).
 */
import { describe, expect, test } from 'bun:test'
import { compileRuleSet } from '../../src/rules/index.ts'

describe('given method(GET) = block : pass followed by a block-all rule', () => {
  const set = compileRuleSet({
    rules: [
      { name: 'get-only', rule: 'method(GET) = block : pass' },
      { name: 'all', rule: 'method(POST) || host(*) = block' },
    ],
  })

  test.each([
    ['GET', 'then', true],
    ['POST', 'else', false],
    ['BREW', 'else', false],
  ])('%s should be decided by the ternary (%s branch, block %p)', (method, branch, block) => {
    const d = set.evaluate({ method, host: 'a.example', path: '/', ip: '192.0.2.1', headers: [] })
    expect(d.rule?.name).toBe('get-only')
    expect(d.branch).toBe(branch as 'then' | 'else')
    expect(d.block).toBe(block)
  })
})
