/**
 * The request pipeline behind the proxy's `RequestPolicy` seam:
 *
 *   rules.evaluate ──block──▶ 403 Not Allowed
 *        │
 *        ├─ rate_limit / credit ──▶ limits.check ──429──▶ Rate limit exceeded / credit message
 *        │                                        └─ ok ─▶ X-RateLimit-*, X-Credit-*, delay
 *        └─ mangle changes (only when the request goes on) ──▶ forward
 *
 * One `RulePolicy` per config snapshot: hot reload builds a new one and the
 * server swaps the reference. The limits engine is shared across snapshots
 * so counters survive (SPEC §7). Per-rule limit specs are built here once,
 * at load, not per request.
 */
import type { RoxyConfig } from '../config/index.ts'
import type { CreditSpec, LimitRequest, LimitsEngine, RateLimitSpec } from '../limits/index.ts'
import { log } from '../observe/log.ts'
import {
  FORWARD_ALL,
  type PolicyRequest,
  type RequestPolicy,
  type Verdict,
} from '../proxy/policy.ts'
import {
  RuleSet,
  applyHeaderChanges,
  type CreditAction,
  type Decision,
  type RateLimitAction,
} from '../rules/index.ts'

/** Body of a `block` answer (Roxy-compatible). */
export const BLOCK_BODY = 'Not Allowed'

export class RulePolicy implements RequestPolicy {
  readonly ruleSet: RuleSet
  #limits: LimitsEngine
  /** Limit specs by compiled term (each branch of a ternary has its own). */
  #rateSpecs = new Map<RateLimitAction, RateLimitSpec>()
  #creditSpecs = new Map<CreditAction, CreditSpec>()
  /** Reused for every check: the engine copies nothing it keeps. */
  #limitRequest: LimitRequest = { rule: '', key: '', ip: '', headerKeyed: false }

  constructor(config: RoxyConfig, limits: LimitsEngine) {
    this.ruleSet = new RuleSet({
      rules: config.rules.map((r) => ({ name: r.name, rule: r.rule, log_level: r.logLevel })),
      headers: config.headers,
    })
    this.#limits = limits
    this.#buildSpecs(config)
  }

  /** Some rule spends credits (so balances need the store). */
  get hasCredits(): boolean {
    return this.#creditSpecs.size > 0
  }

  decide(req: PolicyRequest): Verdict {
    const decision = this.ruleSet.evaluate(req)
    const rule = decision.rule
    if (rule === null) {
      return FORWARD_ALL
    }
    if (decision.block) {
      return this.#verdict(decision, req, 'block', 403, BLOCK_BODY, undefined, 0, undefined)
    }
    let responseHeaders: string[] | undefined
    let delayMs = 0
    if (decision.rateLimit !== null || decision.credit !== null) {
      const outcome = this.#checkLimits(decision, req)
      // The outcome object is reused by the next check: keep a copy.
      responseHeaders = outcome.headers.slice()
      if (outcome.status !== 0) {
        const action = outcome.action
        return this.#verdict(
          decision,
          req,
          action,
          outcome.status,
          outcome.body,
          responseHeaders,
          0,
          undefined,
        )
      }
      delayMs = outcome.delayMs
    }
    const changed = applyHeaderChanges(req.headers, decision.headerChanges)
    const requestHeaders = changed === req.headers ? undefined : changed
    return this.#verdict(decision, req, 'forward', 0, '', responseHeaders, delayMs, requestHeaders)
  }

  #checkLimits(decision: Decision, req: PolicyRequest) {
    const rule = decision.rule!
    const lr = this.#limitRequest
    lr.rule = rule.name
    lr.ip = req.ip
    lr.headerKeyed = decision.headerKeyed
    lr.key = decision.buildKey(req)
    lr.creditKey =
      decision.rateLimit !== null && decision.credit !== null
        ? decision.credit.key.build(req)
        : undefined
    lr.rateLimit = decision.rateLimit !== null ? this.#rateSpecs.get(decision.rateLimit) : undefined
    lr.credit = decision.credit !== null ? this.#creditSpecs.get(decision.credit) : undefined
    return this.#limits.check(lr)
  }

  #verdict(
    decision: Decision,
    req: PolicyRequest,
    action: Verdict['action'],
    status: number,
    body: string,
    responseHeaders: readonly string[] | undefined,
    delayMs: number,
    requestHeaders: readonly string[] | undefined,
  ): Verdict {
    const rule = decision.rule!
    const level = rule.logLevel
    const logged =
      level !== 'off' && log.isEnabled(level, 'proxy') ? decision.loggedHeaders(req) : undefined
    return {
      action,
      rule: rule.name,
      logLevel: level,
      loggedHeaders: logged && Object.keys(logged).length > 0 ? logged : undefined,
      status,
      body,
      responseHeaders,
      delayMs,
      requestHeaders,
    }
  }

  /** Fold `throttle:` and `credits:` entries into per-rule limit specs, once per snapshot. */
  #buildSpecs(config: RoxyConfig): void {
    const throttles = new Map(config.throttle.map((t) => [t.rule, t]))
    const credits = new Map(config.credits.map((c) => [c.rule, c]))
    for (const compiled of this.ruleSet.rules) {
      const throttle = throttles.get(compiled.name)
      const entry = credits.get(compiled.name)
      for (const term of [...compiled.then.terms, ...(compiled.else?.terms ?? [])]) {
        if (term.type === 'rate-limit') {
          this.#rateSpecs.set(term, {
            limit: term.limit,
            windowSecs: term.windowSecs,
            softLimit: throttle?.softLimit,
            maxDelayMs: throttle?.maxDelayMs ?? 0,
          })
        } else if (term.type === 'credit') {
          this.#creditSpecs.set(term, {
            limit: term.limit,
            period: term.period,
            resetSchedule: entry?.resetSchedule ?? '',
            softLimit: entry?.softLimit,
            maxDelayMs: entry?.maxDelayMs ?? 0,
            message: entry?.message,
          })
        }
      }
    }
  }
}
