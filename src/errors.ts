/**
 * Errors carry a stable `code`: tests, logs and docs/errors.md match on it,
 * never on the message. One base class, one short subclass per family.
 * Mapping an error to an HTTP status happens in exactly one place:
 * `statusForError` below.
 */

export type RoxyErrorCode =
  // configuration and command line
  | 'ROXY_E_CONFIG_READ'
  | 'ROXY_E_CONFIG_SYNTAX'
  | 'ROXY_E_CONFIG_INVALID'
  | 'ROXY_E_CONFIG_UNKNOWN_KEY'
  | 'ROXY_E_CONFIG_TYPE'
  | 'ROXY_E_CONFIG_RANGE'
  | 'ROXY_E_CONFIG_MISSING'
  | 'ROXY_E_CONFIG_DUPLICATE'
  | 'ROXY_E_CONFIG_REFERENCE'
  | 'ROXY_E_CONFIG_CONFLICT'
  | 'ROXY_E_USAGE'
  | 'ROXY_E_LISTEN'
  // rules
  | 'ROXY_E_RULE_SYNTAX'
  // rate limits and credits
  | 'ROXY_E_CREDIT_SCHEDULE'
  | 'ROXY_E_STATE_STORE'
  // client side of the proxy
  | 'ROXY_E_BAD_REQUEST'
  | 'ROXY_E_URI_TOO_LONG'
  | 'ROXY_E_HEADERS_TOO_LARGE'
  | 'ROXY_E_NOT_A_PROXY_REQUEST'
  | 'ROXY_E_LOOP'
  // upstream side
  | 'ROXY_E_UPSTREAM_DNS'
  | 'ROXY_E_UPSTREAM_REFUSED'
  | 'ROXY_E_UPSTREAM_RESET'
  | 'ROXY_E_UPSTREAM_TLS'
  | 'ROXY_E_UPSTREAM_TIMEOUT'
  | 'ROXY_E_UPSTREAM_PROTOCOL'
  // TLS interception
  | 'ROXY_E_TLS_CA'
  | 'ROXY_E_TLS_CA_EXISTS'
  | 'ROXY_E_TLS_HOST'
  | 'ROXY_E_TLS_UPSTREAM_CA'

export class RoxyError extends Error {
  readonly code: RoxyErrorCode

  constructor(code: RoxyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RoxyError'
    this.code = code
  }
}

/** A location in a source file, 1-based, for messages of the form `file:line:col`. */
export interface SourcePosition {
  file: string
  line: number
  col: number
}

/** One problem in a config file; a load collects all of them before failing. */
export interface ConfigProblem extends SourcePosition {
  code: RoxyErrorCode
  message: string
}

export class ConfigError extends RoxyError {
  readonly problems: ConfigProblem[]

  constructor(problems: ConfigProblem[]) {
    const first = problems[0]
    super(first?.code ?? 'ROXY_E_CONFIG_INVALID', problems.map(formatProblem).join('\n'))
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`
}

/** A malformed or refused client request; answered with `status` and a closed connection. */
export class ClientError extends RoxyError {
  override name = 'ClientError'
}

/** The upstream could not be reached or broke; answered 502 or 504. */
export class UpstreamError extends RoxyError {
  override name = 'UpstreamError'
}

/** The single place where an error becomes an HTTP status. */
export function statusForError(err: unknown): number {
  if (!(err instanceof RoxyError)) {
    return 502
  }
  switch (err.code) {
    case 'ROXY_E_URI_TOO_LONG':
      return 414
    case 'ROXY_E_HEADERS_TOO_LARGE':
      return 431
    case 'ROXY_E_LOOP':
      return 508
    case 'ROXY_E_UPSTREAM_TIMEOUT':
      return 504
    case 'ROXY_E_BAD_REQUEST':
    case 'ROXY_E_NOT_A_PROXY_REQUEST':
      return 400
    default:
      return 502
  }
}
