/**
 * The seam through which config checks rule texts without importing the rule parser
 * (config is data; src/rules depends on nothing here but these types).
 *
 * `rateLimit` and `credit` extend the shape agreed in BRIEF-INTERFACES in a
 * backwards-compatible way: an inspector that leaves them out still works, and config then
 * skips the "soft_limit below the hard limit" check for that rule.
 */

/** What config needs to know about one rule text. */
export type RuleInspection =
  | {
      ok: true
      hasCredit: boolean
      hasRateLimit: boolean
      hasMangle: boolean
      /** The `rate_limit(N/...)` term, when the action has one. */
      rateLimit?: { limit: number }
      /** The `credit(N/...)` term, when the action has one. */
      credit?: { limit: number }
    }
  /** `column` is 1-based within the rule text; `message` names what was expected. */
  | { ok: false; message: string; column: number }

/** Parses one rule text; must not throw. */
export type RuleInspector = (ruleText: string) => RuleInspection
