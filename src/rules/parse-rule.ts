import { canExtend, explainNoExtend, parseAction } from './parse-action.ts'
import { parseCondition } from './parse-condition.ts'
import type { RuleDefinition, TermDefinition } from './rule-definition.ts'
import { CH, RuleScanner, listOr } from './rule-scanner.ts'

/**
 * Parse one rule (SPEC §5) into plain definition objects:
 *
 *   rule := expr "=" action [ ":" action ]
 *
 * Throws RuleSyntaxError (code ROXY_E_RULE_SYNTAX) naming `name`, the column
 * and what was expected. Reads the text once, left to right: time is linear
 * in its length whatever it holds.
 *
 * @example parseRule('host(api.example.com) && !header(X-Api-Key) = block', 'need-key')
 */
export function parseRule(text: string, name?: string): RuleDefinition {
  const s = new RuleScanner(text, name)
  const condition = parseCondition(s)
  s.expect(CH.EQUALS, "'&&', '||' or '='")
  const then = parseAction(s)
  const otherwise = s.eat(CH.COLON) ? parseAction(s) : null
  expectEnd(s, otherwise ?? then, otherwise !== null)
  return { type: 'rule', condition, then, else: otherwise }
}

/** After the last action only '+' (if it may combine), ':' (once) or the end may follow. */
function expectEnd(s: RuleScanner, terms: TermDefinition[], isElse: boolean): void {
  if (s.isAtEnd()) {
    return
  }
  const options: string[] = []
  if (canExtend(terms)) {
    options.push("'+'")
  }
  if (!isElse) {
    options.push("':'")
  }
  options.push('end of rule')
  const hint = s.peek() === CH.PLUS ? explainNoExtend(terms) : undefined
  s.fail(listOr(options), hint)
}
