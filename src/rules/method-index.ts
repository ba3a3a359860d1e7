import type { ConditionDefinition } from './rule-definition.ts'

/**
 * Which rules can decide for a given method, so evaluation skips the rest.
 *
 * A rule may be left out of a method's list only when its condition is
 * provably false for that method. A ternary is never left out: it decides
 * for every method, through its else branch when the condition fails. Lists
 * keep config order, so first-match-wins gives the same outcome as a full
 * scan (test/rules/method-index.test.ts compares the two on random rules).
 *
 *   rules:   #0 method(GET)=block   #1 host(a)=pass   #2 method(POST)=x:y
 *   GET   -> [0, 1, 2]
 *   POST  -> [1, 2]
 *   other -> [1, 2]
 */
export interface RuleOrder {
  /** Every rule, in order. */
  readonly all: Int32Array
  /** Lists for methods that some rule names; null when indexing would not help. */
  readonly byMethod: ReadonlyMap<string, Int32Array> | null
  /** The list for a method no rule names. */
  readonly other: Int32Array
}

export interface IndexableRule {
  readonly definition: { condition: ConditionDefinition }
  readonly isTernary: boolean
}

/**
 * The methods under which `def` can hold, or null for "any method".
 * Sound, not complete: `!method(GET)` is treated as any method.
 */
export function listPossibleMethods(def: ConditionDefinition): ReadonlySet<string> | null {
  switch (def.type) {
    case 'method':
      return new Set([def.method])
    case 'and':
      return intersectAll(def.operands.map(listPossibleMethods))
    case 'or':
      return uniteAll(def.operands.map(listPossibleMethods))
    default:
      return null
  }
}

function intersectAll(sets: (ReadonlySet<string> | null)[]): ReadonlySet<string> | null {
  const known = sets.filter((set): set is ReadonlySet<string> => set !== null)
  if (known.length === 0) {
    return null
  }
  return known.reduce((acc, set) => new Set([...acc].filter((m) => set.has(m))))
}

function uniteAll(sets: (ReadonlySet<string> | null)[]): ReadonlySet<string> | null {
  if (sets.some((set) => set === null)) {
    return null
  }
  return new Set(sets.flatMap((set) => [...(set as ReadonlySet<string>)]))
}

/** Build the per-method lists; with `enabled` false (or nothing to gain) every method scans all rules. */
export function buildRuleOrder(rules: readonly IndexableRule[], enabled: boolean): RuleOrder {
  const all = Int32Array.from(rules.keys())
  const possible = rules.map((rule) =>
    rule.isTernary ? null : listPossibleMethods(rule.definition.condition),
  )
  if (!enabled || possible.every((set) => set === null)) {
    return { all, byMethod: null, other: all }
  }
  const methods = new Set(possible.flatMap((set) => (set === null ? [] : [...set])))
  const byMethod = new Map<string, Int32Array>()
  for (const method of methods) {
    byMethod.set(
      method,
      selectRules(possible, (set) => set === null || set.has(method)),
    )
  }
  return { all, byMethod, other: selectRules(possible, (set) => set === null) }
}

function selectRules(
  possible: readonly (ReadonlySet<string> | null)[],
  keep: (set: ReadonlySet<string> | null) => boolean,
): Int32Array {
  return Int32Array.from(possible.flatMap((set, index) => (keep(set) ? [index] : [])))
}
