/**
 * Incremental parser for HTTP/1.x request heads (RFC 9112 §2–§5); response
 * heads are read in place by response-scan.ts.
 *
 * The parser is strict on purpose: a proxy that accepts what the upstream
 * would read differently is a request-smuggling vector. Anything outside the
 * grammar throws a `ClientError`, which the connection answers with 4xx and
 * a close.
 *
 *   request-line = method SP request-target SP HTTP-version CRLF   (§3)
 *   field-line   = field-name ":" OWS field-value OWS CRLF         (§5)
 *
 * Header shape: a flat array `[name0, value0, name1, value1, ...]`, names in
 * the case the client sent (forwarded as they came), values with surrounding
 * OWS removed. One array per request, no object per header.
 */
import { ClientError } from '../../errors.ts'

/** Request line longer than this → 414 (SPEC §3). */
export const MAX_REQUEST_LINE = 8 * 1024
/** Whole head (request line + fields) longer than this → 431. */
export const MAX_HEAD = 64 * 1024

export interface RequestHead {
  method: string
  target: string
  /** Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: 0 | 1
  /** Flat `[name, value, ...]`. */
  headers: string[]
  /** Bytes of the head including the final empty line. */
  length: number
  /** The bytes the head was read from (the head is `raw[0, length)`), for copying lines as they are. */
  raw: Uint8Array
}

const CR = 13
const LF = 10
const EMPTY = new Uint8Array(0)

/**
 * Parse a request head at the start of `buf`. Returns `undefined` while the
 * head is incomplete (the caller waits for more bytes), throws `ClientError`
 * on anything malformed or too large.
 */
export function parseRequestHead(buf: Uint8Array): RequestHead | undefined {
  const lineEnd = indexOfLf(buf, 0, MAX_REQUEST_LINE + 2)
  if (lineEnd < 0) {
    if (buf.length > MAX_REQUEST_LINE + 1) {
      throw new ClientError('ROXY_E_URI_TOO_LONG', 'request line longer than 8 KiB')
    }
    return undefined
  }
  const headEnd = findHeadEnd(buf, lineEnd)
  if (headEnd < 0) {
    if (buf.length > MAX_HEAD) {
      throw new ClientError('ROXY_E_HEADERS_TOO_LARGE', 'request header block larger than 64 KiB')
    }
    return undefined
  }
  if (headEnd > MAX_HEAD) {
    throw new ClientError('ROXY_E_HEADERS_TOO_LARGE', 'request header block larger than 64 KiB')
  }
  const text = latin1(buf, 0, headEnd)
  const head = parseRequestLine(text, lineEnd - 1)
  head.headers = parseFieldLines(text, lineEnd + 1, headEnd - 2)
  head.length = headEnd
  head.raw = buf
  return head
}

/** Index of the next LF at or after `from` (searching at most `limit` bytes), or -1. */
function indexOfLf(buf: Uint8Array, from: number, limit: number): number {
  const end = Math.min(buf.length, from + limit)
  for (let i = from; i < end; i++) {
    if (buf[i] === LF) {
      return i
    }
  }
  return -1
}

/**
 * Index just past the empty line that ends the head, or -1. Every LF must
 * follow a CR: a bare LF is rejected rather than guessed at (§2.2).
 */
function findHeadEnd(buf: Uint8Array, firstLf: number): number {
  let lf = firstLf
  for (;;) {
    if (lf === 0 || buf[lf - 1] !== CR) {
      throw new ClientError('ROXY_E_BAD_REQUEST', 'bare LF in request head')
    }
    if (lf >= 3 && buf[lf - 2] === LF) {
      return lf + 1
    }
    const next = buf.indexOf(LF, lf + 1)
    if (next < 0) {
      return -1
    }
    lf = next
  }
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.prototype.latin1Slice.call(buf, start, end) as string
}

/** `text` holds the head; `crIndex` is the CR ending the request line. */
function parseRequestLine(text: string, crIndex: number): RequestHead {
  const sp1 = text.indexOf(' ')
  const sp2 = sp1 < 0 ? -1 : text.indexOf(' ', sp1 + 1)
  if (sp1 <= 0 || sp2 < 0 || sp2 > crIndex || sp2 === sp1 + 1) {
    throw new ClientError('ROXY_E_BAD_REQUEST', 'malformed request line')
  }
  const method = text.slice(0, sp1)
  if (!isToken(method)) {
    throw new ClientError('ROXY_E_BAD_REQUEST', 'malformed method')
  }
  const target = text.slice(sp1 + 1, sp2)
  if (!isVisibleAscii(target)) {
    throw new ClientError('ROXY_E_BAD_REQUEST', 'malformed request target')
  }
  const version = text.slice(sp2 + 1, crIndex)
  let minor: 0 | 1
  if (version === 'HTTP/1.1') {
    minor = 1
  } else if (version === 'HTTP/1.0') {
    minor = 0
  } else {
    throw new ClientError(
      'ROXY_E_BAD_REQUEST',
      `unsupported protocol version ${JSON.stringify(version)}`,
    )
  }
  return { method, target, minor, headers: [], length: 0, raw: EMPTY }
}

/** Parse the field lines between `start` and `end` (the CRLF before the empty line). */
function parseFieldLines(text: string, start: number, end: number): string[] {
  const headers: string[] = []
  let pos = start
  while (pos < end) {
    const cr = text.indexOf('\r', pos)
    const colon = text.indexOf(':', pos)
    if (colon < 0 || colon > cr || colon === pos) {
      throw new ClientError('ROXY_E_BAD_REQUEST', 'malformed header line')
    }
    const name = text.slice(pos, colon)
    if (!isToken(name)) {
      // Also catches obs-fold (a line starting with SP or HTAB, §5.2) and
      // whitespace before the colon (§5.1).
      throw new ClientError('ROXY_E_BAD_REQUEST', 'malformed header name')
    }
    headers.push(name, trimValue(text, colon + 1, cr))
    pos = cr + 2
  }
  return headers
}

/** Field value without leading and trailing OWS; CTLs other than HTAB are rejected (§5.5). */
function trimValue(text: string, start: number, end: number): string {
  let s = start
  let e = end
  while (s < e && isOws(text.charCodeAt(s))) {
    s++
  }
  while (e > s && isOws(text.charCodeAt(e - 1))) {
    e--
  }
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
      throw new ClientError('ROXY_E_BAD_REQUEST', 'control character in header value')
    }
  }
  return text.slice(s, e)
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09
}

/** tchar per RFC 9110 §5.6.2. */
const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~") {
  TCHAR[c.charCodeAt(0)] = 1
}
for (let c = 0x30; c <= 0x39; c++) {
  TCHAR[c] = 1
}
for (let c = 0x41; c <= 0x5a; c++) {
  TCHAR[c] = 1
  TCHAR[c + 0x20] = 1
}

export function isToken(s: string): boolean {
  if (s.length === 0) {
    return false
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 128 || TCHAR[c] === 0) {
      return false
    }
  }
  return true
}

function isVisibleAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c <= 0x20 || c >= 0x7f) {
      return false
    }
  }
  return true
}
