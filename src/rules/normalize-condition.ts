import { assertNever } from './rule-definition.ts'
import type { ConditionDefinition } from './rule-definition.ts'
import { toLowerAscii } from './rule-request.ts'

/**
 * A canonical text for a condition, equal for conditions that are the same
 * up to spelling: keyword and header-name case, host-pattern case, operand
 * order and repeats in && / || chains, nested chains of the same kind,
 * double negation. Used to warn about rules with the same condition.
 *
 *   HOST("A.example") && Header(X-Key)        \
 *   header(x-key) && host(a.example)           }->  (header(x-key) && host("a.example"))
 *   !!(header(X-KEY) && (host(a.example)))    /
 */
export function normalizeCondition(def: ConditionDefinition): string {
  switch (def.type) {
    case 'host':
      return `host(${JSON.stringify(toLowerAscii(def.pattern))})`
    case 'path':
      return `path(${JSON.stringify(def.pattern)})`
    case 'method':
      return `method(${def.method})`
    case 'header-present':
      return `header(${toLowerAscii(def.name)})`
    case 'header-equals':
      return `header(${toLowerAscii(def.name)}:${JSON.stringify(def.value)})`
    case 'header-glob':
      return `header(${toLowerAscii(def.name)}~${JSON.stringify(def.pattern)})`
    case 'not':
      return def.operand.type === 'not'
        ? normalizeCondition(def.operand.operand)
        : `!${normalizeCondition(def.operand)}`
    case 'and':
    case 'or':
      return normalizeChain(def.type, def.operands)
    default:
      return assertNever(def)
  }
}

function normalizeChain(type: 'and' | 'or', operands: readonly ConditionDefinition[]): string {
  const parts = new Set<string>()
  collectChain(type, operands, parts)
  const sorted = [...parts].sort()
  return sorted.length === 1 ? sorted[0] : `(${sorted.join(type === 'and' ? ' && ' : ' || ')})`
}

function collectChain(
  type: 'and' | 'or',
  operands: readonly ConditionDefinition[],
  into: Set<string>,
): void {
  for (const operand of operands) {
    if (operand.type === type) {
      collectChain(type, operand.operands, into)
    } else {
      into.add(normalizeCondition(operand))
    }
  }
}
