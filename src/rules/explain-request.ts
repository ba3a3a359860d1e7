import type { Matcher } from './compile-condition.ts'
import type { Decision } from './decision.ts'
import { explainHeaderChanges } from './header-changes.ts'
import type { RuleRequest } from './rule-request.ts'
import { REDACTED, isSecretHeader } from './secret-headers.ts'
import { toLowerAscii } from './rule-request.ts'
import type { CompiledRule } from './compile-rule.ts'
import type { RuleSet } from './rule-set.ts'

/** Whether a condition held, and the leaf checks that settled it. */
interface Trace {
  holds: boolean
  because: string
}

/**
 * The dry run behind `roxy explain`: every rule in order with whether its
 * condition held and why, where evaluation stopped and why, the decision,
 * the limit key, the logged headers and the header changes. Pure: touches
 * no counters.
 */
export function explainRequest(ruleSet: RuleSet, req: RuleRequest): string {
  const decision = ruleSet.evaluate(req)
  const lines = [`request: ${req.method} ${req.host}${req.path} from ${req.ip || '(no ip)'}`]
  lines.push(`headers: ${describeHeaders(req.headers)}`)
  lines.push(...explainRules(ruleSet.rules, decision, req))
  lines.push(`decision: ${decision.explain()}`)
  lines.push(...explainOutcome(decision, req))
  return lines.join('\n')
}

/** Where the walk is: looking for the deciding rule, collecting later mangles, or past the end. */
type Phase = 'deciding' | 'mangling' | 'done'

function explainRules(
  rules: readonly CompiledRule[],
  decision: Decision,
  req: RuleRequest,
): string[] {
  const lines: string[] = []
  const decided = decision.rule?.index ?? -1
  let phase: Phase = 'deciding'
  for (const rule of rules) {
    lines.push(`#${rule.index + 1} ${JSON.stringify(rule.name)}: ${rule.text}`)
    const trace = traceCondition(rule.condition, req)
    const verdict = `${trace.holds ? 'holds' : 'does not hold'}: ${trace.because}`
    if (phase === 'deciding') {
      lines.push(`   ${verdict}${rule.index === decided ? ` -> decides (${decision.branch})` : ''}`)
    } else {
      lines.push(`   after the decision: ${describeLater(rule, trace, phase)}`)
    }
    if (rule.index === decided) {
      lines.push(`stopped: ${describeStop(rule, decision)}`)
    }
    phase = nextPhase(phase, rule, decided, decision)
  }
  if (decided < 0) {
    lines.push(rules.length === 0 ? 'stopped: there are no rules' : 'stopped: no rule matched')
  }
  return lines
}

function nextPhase(phase: Phase, rule: CompiledRule, decided: number, decision: Decision): Phase {
  if (phase === 'deciding' && rule.index === decided) {
    return decision.block || rule.isTernary ? 'done' : 'mangling'
  }
  return phase === 'mangling' && rule.isTernary ? 'done' : phase
}

function describeLater(rule: CompiledRule, trace: Trace, phase: Phase): string {
  if (phase === 'done') {
    return 'not considered'
  }
  const branch = trace.holds ? rule.then : rule.else
  if (branch === null || !branch.mangle) {
    return `${trace.holds ? 'holds' : 'does not hold'}, no header changes from it`
  }
  return `holds, its header changes apply: ${trace.because}`
}

function describeStop(rule: CompiledRule, decision: Decision): string {
  if (decision.block) {
    return 'block stops everything (no limits, no header changes)'
  }
  if (decision.branch === 'else') {
    return 'a ternary always decides; its condition failed, so the else branch applies'
  }
  const ternary = rule.isTernary
    ? '; a ternary ends the list'
    : '; later mangle rules whose condition holds still add header changes'
  return `first rule whose condition holds decides${ternary}`
}

function explainOutcome(decision: Decision, req: RuleRequest): string[] {
  const lines: string[] = []
  for (const term of [decision.rateLimit, decision.credit]) {
    if (term !== null) {
      const keyed = !term.key.headerKeyed
        ? ''
        : term.type === 'rate-limit'
          ? ' (header-keyed: the per-IP baseline applies too)'
          : ' (header-keyed)'
      lines.push(`${term.type} key: ${JSON.stringify(term.key.build(req))}${keyed}`)
    }
  }
  const logged = Object.entries(decision.loggedHeaders(req)).map(
    ([n, v]) => `${n}=${JSON.stringify(v)}`,
  )
  lines.push(`logged headers: ${logged.length > 0 ? logged.join(', ') : 'none'}`)
  const changes = decision.block ? 'none (blocked)' : explainHeaderChanges(decision.headerChanges)
  const condition =
    decision.rateLimit !== null || decision.credit !== null ? ' (when the limits allow it)' : ''
  lines.push(`header changes: ${changes}${decision.headerChanges.length > 0 ? condition : ''}`)
  return lines
}

/** Evaluate like Matcher.test, keeping the reason: the checks that settled the result. */
export function traceCondition(m: Matcher, req: RuleRequest): Trace {
  const def = m.definition
  if (def.type === 'not') {
    const inner = traceCondition(m.operands[0], req)
    return { holds: !inner.holds, because: inner.because }
  }
  if (def.type === 'and' || def.type === 'or') {
    return traceChain(m, def.type === 'and', req)
  }
  return { holds: m.test(req), because: `${m.explain()} (got ${m.observe(req)})` }
}

/** `&&`: the first failing operand, else all; `||`: the first holding operand, else all. */
function traceChain(m: Matcher, isAnd: boolean, req: RuleRequest): Trace {
  const reasons: string[] = []
  for (const operand of m.operands) {
    const trace = traceCondition(operand, req)
    if (trace.holds !== isAnd) {
      return trace
    }
    reasons.push(trace.because)
  }
  return { holds: isAnd, because: reasons.join('; ') }
}

function describeHeaders(headers: readonly string[]): string {
  const shown: string[] = []
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const value = isSecretHeader(toLowerAscii(headers[i]))
      ? REDACTED
      : JSON.stringify(headers[i + 1])
    shown.push(`${headers[i]}: ${value}`)
  }
  return shown.length > 0 ? shown.join(', ') : 'none'
}
