import { parseRule } from './parse-rule.ts'
import type { TermDefinition } from './rule-definition.ts'
import { RuleSyntaxError } from './rule-syntax-error.ts'

/** The config loader's view of a rule (BRIEF-INTERFACES); config does not import the parser. */
export type RuleInspection =
  | { ok: true; hasCredit: boolean; hasRateLimit: boolean; hasMangle: boolean }
  | { ok: false; message: string; column: number }

export type RuleInspector = (ruleText: string) => RuleInspection

/**
 * Parse `ruleText` and say which actions it uses (either branch), or why it
 * does not parse: `message` is one line (`expected X, found Y (hint)`) and
 * `column` is 1-based within the rule text.
 */
export const inspectRule: RuleInspector = (ruleText) => {
  try {
    const rule = parseRule(ruleText)
    const terms: TermDefinition[] = [...rule.then, ...(rule.else ?? [])]
    return {
      ok: true,
      hasCredit: terms.some((t) => t.type === 'credit'),
      hasRateLimit: terms.some((t) => t.type === 'rate-limit'),
      hasMangle: terms.some((t) => t.type === 'mangle'),
    }
  } catch (err) {
    if (err instanceof RuleSyntaxError) {
      return { ok: false, message: err.detail, column: err.column }
    }
    throw err
  }
}
