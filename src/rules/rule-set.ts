import { NO_RULE_DECISION } from './decision.ts'
import type { Decision } from './decision.ts'
import { compileRules } from './compile-rule.ts'
import type { CompiledRule, RuleBranch, RuleEntry } from './compile-rule.ts'
import { buildEntryChanges } from './header-changes.ts'
import type { HeaderChange, HeaderEntry } from './header-changes.ts'
import { buildRuleOrder } from './method-index.ts'
import type { RuleRequest } from './rule-request.ts'

/** The parts of the config a RuleSet is built from. */
export interface RuleSetConfig {
  rules: readonly RuleEntry[]
  headers?: readonly HeaderEntry[]
}

export interface RuleSetOptions {
  /** Skip rules that cannot hold for the request's method (same outcomes). @default true */
  methodIndex?: boolean
}

/** A list of rules to scan, plus the positions in it that matter after a decision. */
interface ScanList {
  readonly rules: Int32Array
  /** Positions (into `rules`) of rules with a mangle branch, and of ternaries (which end the scan). */
  readonly tail: Int32Array
}

/** Header-change combinations cached per RuleSet; past this they are built per request. */
const DECISION_CACHE_LIMIT = 4096
/** Entry marks restart before the generation counter could overflow an Int32Array slot. */
const GENERATION_LIMIT = 0x3fffffff

/** Is there a mangle rule or ternary after position `k`? */
function hasTailAfter(list: ScanList, k: number): boolean {
  return list.tail.length > 0 && list.tail[list.tail.length - 1] > k
}

/**
 * The compiled `rules:` and `headers:` of one config snapshot. Immutable once
 * built: a reload builds a new RuleSet and swaps the reference.
 *
 * evaluate() walks the rules in order; the first whose condition holds (or
 * the first ternary) decides. Then, unless the decision is `block`, later
 * mangle rules whose condition holds add their header changes, up to and
 * including the next ternary.
 */
export class RuleSet {
  readonly rules: readonly CompiledRule[]
  readonly headers: readonly HeaderEntry[]
  readonly #all: ScanList
  readonly #byMethod: ReadonlyMap<string, ScanList> | null
  readonly #other: ScanList
  readonly #entryChanges: readonly HeaderChange[][]
  readonly #entryMark: Int32Array
  #generation = 0
  #low = 0
  #high = -1
  readonly #cacheBudget = { left: DECISION_CACHE_LIMIT }

  constructor(config: RuleSetConfig, options: RuleSetOptions = {}) {
    this.headers = config.headers ?? []
    this.rules = compileRules(config.rules, this.headers)
    this.#entryChanges = this.headers.map(buildEntryChanges)
    this.#entryMark = new Int32Array(this.headers.length)
    const order = buildRuleOrder(this.rules, options.methodIndex ?? true)
    this.#all = this.#buildScanList(order.all)
    this.#other = order.other === order.all ? this.#all : this.#buildScanList(order.other)
    this.#byMethod =
      order.byMethod &&
      new Map([...order.byMethod].map(([m, list]) => [m, this.#buildScanList(list)]))
  }

  /**
   * Decide for one request. Synchronous; allocates nothing after warm-up.
   * TODO(perf): index rules by exact host too, like by method: large rule sets
   * are mostly per-host, and the scan costs 20 to 50 ns per rule passed over.
   */
  evaluate(req: RuleRequest): Decision {
    const list =
      this.#byMethod === null ? this.#all : (this.#byMethod.get(req.method) ?? this.#other)
    const order = list.rules
    for (let k = 0; k < order.length; k++) {
      const rule = this.rules[order[k]]
      const branch = rule.condition.test(req) ? rule.then : rule.else
      if (branch !== null) {
        return this.#finish(rule, branch, list, k, req)
      }
    }
    return NO_RULE_DECISION
  }

  /** Add the header changes of the deciding branch and of later mangle rules that hold. */
  #finish(
    rule: CompiledRule,
    branch: RuleBranch,
    list: ScanList,
    k: number,
    req: RuleRequest,
  ): Decision {
    if (branch.block || (!branch.mangle && (rule.isTernary || !hasTailAfter(list, k)))) {
      return branch.decision
    }
    this.#startMarks()
    if (branch.mangle) {
      this.#mark(rule.entries)
    }
    if (!rule.isTernary) {
      this.#markLaterManglers(list, k, req)
    }
    let decision = branch.decision
    for (let e = this.#low; e <= this.#high; e++) {
      if (this.#entryMark[e] === this.#generation) {
        decision = decision.withEntry(e, this.#entryChanges[e], this.#cacheBudget)
      }
    }
    return decision
  }

  #markLaterManglers(list: ScanList, k: number, req: RuleRequest): void {
    const tail = list.tail
    for (let t = 0; t < tail.length; t++) {
      if (tail[t] <= k) {
        continue
      }
      const later = this.rules[list.rules[tail[t]]]
      const branch = later.condition.test(req) ? later.then : later.else
      if (branch !== null && branch.mangle) {
        this.#mark(later.entries)
      }
      if (later.isTernary) {
        return
      }
    }
  }

  #startMarks(): void {
    if (this.#generation >= GENERATION_LIMIT) {
      this.#entryMark.fill(0)
      this.#generation = 0
    }
    this.#generation++
    this.#low = this.#entryMark.length
    this.#high = -1
  }

  #mark(entries: Int32Array): void {
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]
      this.#entryMark[e] = this.#generation
      this.#low = Math.min(this.#low, e)
      this.#high = Math.max(this.#high, e)
    }
  }

  #buildScanList(rules: Int32Array): ScanList {
    const tail: number[] = []
    rules.forEach((index, position) => {
      const rule = this.rules[index]
      if (rule.isTernary || rule.then.mangle) {
        tail.push(position)
      }
    })
    return { rules, tail: Int32Array.from(tail) }
  }
}

/** Build a RuleSet from config entries; throws as `compileRules` does. */
export function compileRuleSet(config: RuleSetConfig, options?: RuleSetOptions): RuleSet {
  return new RuleSet(config, options)
}

/** Decide for one request (same as `ruleSet.evaluate(req)`). */
export function evaluate(ruleSet: RuleSet, req: RuleRequest): Decision {
  return ruleSet.evaluate(req)
}
