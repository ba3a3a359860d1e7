/**
 * A stand-in for the rule parser's inspector (src/rules), enough for config tests: it finds
 * `=`, the terms and their limits, and rejects text with `!!` at that column.
 */

import type { RuleInspection } from '../../src/config/rule-inspection.ts'

export function inspectFakeRule(text: string): RuleInspection {
  const bad = text.indexOf('!!')
  if (bad >= 0) {
    return { ok: false, message: `unexpected '!!' at column ${bad + 1}`, column: bad + 1 }
  }
  if (!text.includes('=')) {
    return { ok: false, message: `expected '=' and an action`, column: text.length + 1 }
  }
  const action = text.slice(text.lastIndexOf('=') + 1)
  const rate = /rate_limit\((\d+)\//.exec(action)
  const credit = /credit\((\d+)\//.exec(action)
  return {
    ok: true,
    hasRateLimit: rate !== null,
    hasCredit: credit !== null,
    hasMangle: /mangle/.test(action),
    rateLimit: rate ? { limit: Number(rate[1]) } : undefined,
    credit: credit ? { limit: Number(credit[1]) } : undefined,
  }
}
