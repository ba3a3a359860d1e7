/**
 * What a rule sees of a request (agreed in BRIEF-INTERFACES), and the
 * allocation-free header lookups the matchers and key builders share.
 *
 * Headers are one flat list, names in the case the client sent:
 *
 *   [ 'Host', 'a.example', 'X-Api-Key', 'k1', 'Accept', '*\/*' ]
 *      name0   value0       name1        value1  ...
 */
export interface RuleRequest {
  /** As sent, e.g. 'GET', 'CONNECT'. */
  method: string
  /** Lower case, no port, IPv6 without brackets. */
  host: string
  /** Without the query string. */
  path: string
  /** Client IP address. */
  ip: string
  /** Flat header list: [name0, value0, name1, value1, ...]. */
  headers: readonly string[]
}

const UPPER_A = 65
const UPPER_Z = 90
const CASE_BIT = 32

/** Compare an ASCII header name with a name already in lower case, without allocating. */
export function isSameHeaderName(name: string, lowerName: string): boolean {
  if (name.length !== lowerName.length) {
    return false
  }
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i)
    if (c >= UPPER_A && c <= UPPER_Z) {
      c |= CASE_BIT
    }
    if (c !== lowerName.charCodeAt(i)) {
      return false
    }
  }
  return true
}

/** Index in the flat list of the first value of `lowerName`, or -1. */
export function findHeaderValue(headers: readonly string[], lowerName: string, from = 0): number {
  for (let i = from; i + 1 < headers.length; i += 2) {
    if (isSameHeaderName(headers[i], lowerName)) {
      return i + 1
    }
  }
  return -1
}

/** Every value of header `lowerName`, in order (allocates: for logs and explanations). */
export function collectHeaderValues(headers: readonly string[], lowerName: string): string[] {
  const values: string[] = []
  for (
    let i = findHeaderValue(headers, lowerName);
    i >= 0;
    i = findHeaderValue(headers, lowerName, i + 1)
  ) {
    values.push(headers[i])
  }
  return values
}

/** Lower-case ASCII letters only: header names and hosts are ASCII. */
export function toLowerAscii(text: string): string {
  return /[A-Z]/.test(text) ? text.replace(/[A-Z]+/g, (run) => run.toLowerCase()) : text
}
