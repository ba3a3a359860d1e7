import { assertNever } from './rule-definition.ts'
import type { ConditionDefinition, RuleDefinition, TermDefinition } from './rule-definition.ts'
import { toLowerAscii } from './rule-request.ts'

/** SPEC §5: a deciding rule logs the values of at most this many headers. */
export const MAX_LOGGED_HEADERS = 8

/**
 * Header names a rule mentions, in the condition then in the keys of both
 * branches, each once (case-insensitive, first spelling kept), at most 8.
 */
export function listReferencedHeaders(rule: RuleDefinition): string[] {
  const names: string[] = []
  const seen = new Set<string>()
  const add = (name: string) => {
    const lower = toLowerAscii(name)
    if (!seen.has(lower) && names.length < MAX_LOGGED_HEADERS) {
      seen.add(lower)
      names.push(name)
    }
  }
  visitCondition(rule.condition, add)
  visitTerms(rule.then, add)
  visitTerms(rule.else ?? [], add)
  return names
}

function visitCondition(def: ConditionDefinition, add: (name: string) => void): void {
  switch (def.type) {
    case 'header-present':
    case 'header-equals':
    case 'header-glob':
      return add(def.name)
    case 'not':
      return visitCondition(def.operand, add)
    case 'and':
    case 'or':
      return def.operands.forEach((operand) => visitCondition(operand, add))
    case 'host':
    case 'path':
    case 'method':
      return
    default:
      return assertNever(def)
  }
}

function visitTerms(terms: readonly TermDefinition[], add: (name: string) => void): void {
  for (const term of terms) {
    if (term.type === 'rate-limit' || term.type === 'credit') {
      for (const part of term.key) {
        if (part.type === 'header') {
          add(part.name)
        }
      }
    }
  }
}
