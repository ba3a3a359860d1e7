/**
 * The seam between the proxy and its decisions (rules → limits → mangle).
 *
 * The proxy asks once per request — and once per raw tunnel, with method
 * `CONNECT` and path `/` — and gets a `Verdict`. The proxy knows nothing of
 * rules or counters; the policy knows nothing of sockets.
 */
import type { LogLevel } from '../observe/log.ts'

/** What the policy sees of a request. Headers are flat `[name, value, ...]`. */
export interface PolicyRequest {
  method: string
  host: string
  path: string
  ip: string
  headers: readonly string[]
}

export type VerdictAction = 'forward' | 'block' | 'rate_limited' | 'credit_exhausted'

export interface Verdict {
  action: VerdictAction
  /** Name of the deciding rule, if any rule decided. */
  rule: string | undefined
  /** Level of this request's log line (`off` drops it). */
  logLevel: LogLevel
  /** Header values the deciding rule referenced, for the log line. */
  loggedHeaders: Record<string, string> | undefined
  /** Status of a local answer; 0 when forwarding. */
  status: number
  /** Body of a local answer. */
  body: string
  /** Flat `[name, value, ...]` added to the response, forwarded or local. */
  responseHeaders: readonly string[] | undefined
  /** Hold the request this long before forwarding (throttle, soft limits). */
  delayMs: number
  /** The request's headers after `mangle` changes; undefined = forward them unchanged. */
  requestHeaders: readonly string[] | undefined
}

export interface RequestPolicy {
  decide(req: PolicyRequest): Verdict
}

/** Forward everything: the built-in default with no rules. */
export const FORWARD_ALL: Verdict = Object.freeze({
  action: 'forward',
  rule: undefined,
  logLevel: 'info',
  loggedHeaders: undefined,
  status: 0,
  body: '',
  responseHeaders: undefined,
  delayMs: 0,
  requestHeaders: undefined,
})

export const forwardAllPolicy: RequestPolicy = { decide: () => FORWARD_ALL }
