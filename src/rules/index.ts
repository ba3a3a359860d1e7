/**
 * The rule language of SPEC §5: parse, compile, evaluate, explain.
 * Pure: no sockets, no clocks, no counters. The proxy builds one RuleSet per
 * config snapshot and calls `evaluate` once per request; `roxy check` calls
 * `checkRules`, `roxy explain` calls `explainRequest`, and the config loader
 * validates rule text through `inspectRule`.
 */
export { parseRule, parseRule as parse } from './parse-rule.ts'
export { RuleSyntaxError } from './rule-syntax-error.ts'
export { RuleSet, compileRuleSet, evaluate } from './rule-set.ts'
export type { RuleSetConfig, RuleSetOptions } from './rule-set.ts'
export type { CompiledRule, RuleBranch, RuleEntry } from './compile-rule.ts'
export { NO_RULE_DECISION } from './decision.ts'
export type { Decision, DecidingRule } from './decision.ts'
export { explainRequest } from './explain-request.ts'
export { checkRules } from './check-rules.ts'
export type { RuleCheck } from './check-rules.ts'
export { inspectRule } from './inspect-rule.ts'
export type { RuleInspection, RuleInspector } from './inspect-rule.ts'
export { applyHeaderChanges } from './header-changes.ts'
export type { HeaderChange, HeaderEntry } from './header-changes.ts'
export { MISSING_KEY_PART } from './limit-key.ts'
export type { LimitKey } from './limit-key.ts'
export { compileGlob } from './compile-glob.ts'
export type { Glob, GlobOptions } from './compile-glob.ts'
export type { Matcher } from './compile-condition.ts'
export type {
  ActionTerm,
  BlockAction,
  CreditAction,
  MangleAction,
  PassAction,
  RateLimitAction,
} from './compile-action.ts'
export type {
  ConditionDefinition,
  CreditDefinition,
  CreditTerm,
  KeyExtractor,
  MatcherDefinition,
  RateLimitDefinition,
  RateLimitTerm,
  RuleDefinition,
  TermDefinition,
} from './rule-definition.ts'
export type { RuleRequest } from './rule-request.ts'
