import type { KeyExtractor } from './rule-definition.ts'
import { findHeaderValue, toLowerAscii } from './rule-request.ts'
import type { RuleRequest } from './rule-request.ts'

/**
 * The counter key of a rate_limit or credit term: the extractors' values
 * joined with ':' (SPEC §6).
 *
 *   rate_limit(10/s, header(X-Api-Key) + ip)   ->   "k-123:203.0.113.7"
 *
 * - A missing header or IP becomes MISSING_KEY_PART, so omitting a header
 *   never escapes a limit (everyone without it shares one counter).
 * - Client-controlled parts (header values, path, host) have '%' and ':'
 *   percent-encoded, and a value that is exactly '-' becomes '%2D', so no
 *   value can pose as two parts or as the placeholder. The IP is written as
 *   is (IPv6 keeps its colons): the proxy, not the client, spells it, and as
 *   every other part is colon-free the key still splits one way only.
 * - A header sent twice contributes its first value.
 * Nothing is allocated unless a value needs encoding or there are several parts.
 */
export const MISSING_KEY_PART = '-'

export interface LimitKey {
  readonly extractors: readonly KeyExtractor[]
  /** The key holds a header value: the limits engine adds the per-IP baseline (SPEC §6). */
  readonly headerKeyed: boolean
  build(req: RuleRequest): string
  /** e.g. `header X-Api-Key + ip`. */
  explain(): string
}

type Part = (req: RuleRequest) => string

const PERCENT = 37 // %
const COLON = 58 // :

export function compileLimitKey(extractors: readonly KeyExtractor[]): LimitKey {
  const parts = extractors.map(compilePart)
  const text = extractors.map(describeExtractor).join(' + ')
  return {
    extractors,
    headerKeyed: extractors.some((e) => e.type === 'header'),
    build: parts.length === 1 ? parts[0] : (req) => joinParts(parts, req),
    explain: () => text,
  }
}

function joinParts(parts: readonly Part[], req: RuleRequest): string {
  let key = parts[0](req)
  for (let i = 1; i < parts.length; i++) {
    key += ':' + parts[i](req)
  }
  return key
}

function compilePart(extractor: KeyExtractor): Part {
  switch (extractor.type) {
    case 'ip':
      return (req) => (req.ip === '' ? MISSING_KEY_PART : req.ip)
    case 'host':
      return (req) => encodeKeyPart(req.host)
    case 'path':
      return (req) => encodeKeyPart(req.path)
    case 'header': {
      const lower = toLowerAscii(extractor.name)
      return (req) => {
        const at = findHeaderValue(req.headers, lower)
        return at < 0 ? MISSING_KEY_PART : encodeKeyPart(req.headers[at])
      }
    }
  }
}

export function describeExtractor(extractor: KeyExtractor): string {
  return extractor.type === 'header' ? `header ${extractor.name}` : extractor.type
}

/** Percent-encode '%' and ':' (and a lone '-'); returns `value` itself when nothing needs it. */
export function encodeKeyPart(value: string): string {
  if (value === MISSING_KEY_PART) {
    return '%2D'
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c === PERCENT || c === COLON) {
      return value.replaceAll('%', '%25').replaceAll(':', '%3A')
    }
  }
  return value
}
