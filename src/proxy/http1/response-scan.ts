/**
 * Response heads read in place (RFC 9112 §4–§6): offsets into the bytes the
 * origin sent, no string per header. The head is then forwarded by copying
 * the byte runs that survive (everything but hop-by-hop fields), which is
 * the common case of a proxy: most of a response head passes unchanged.
 *
 *   lines (Int32Array, 3 slots per field):
 *     [lineStart, colon, lineEnd]   lineEnd = index of the CR
 *
 * One scan object lives per upstream connection and is reused for every
 * response on it; only unusual fields (Transfer-Encoding, Connection with
 * extra tokens) are turned into strings.
 */
import { UpstreamError } from '../../errors.ts'
import { isChunkedLast, mergeContentLength, type BodyKind } from './framing.ts'
import { MAX_HEAD } from './head.ts'

const CR = 13
const LF = 10
const COLON = 58

/** Lower-case ASCII bytes of the field names the proxy looks at. */
const NAMES = {
  connection: ascii('connection'),
  contentLength: ascii('content-length'),
  transferEncoding: ascii('transfer-encoding'),
  keepAlive: ascii('keep-alive'),
  proxyConnection: ascii('proxy-connection'),
  proxyAuthenticate: ascii('proxy-authenticate'),
  proxyAuthorization: ascii('proxy-authorization'),
  te: ascii('te'),
  trailer: ascii('trailer'),
  upgrade: ascii('upgrade'),
}
const HOP_BY_HOP = [
  NAMES.connection,
  NAMES.keepAlive,
  NAMES.proxyConnection,
  NAMES.proxyAuthenticate,
  NAMES.proxyAuthorization,
  NAMES.te,
  NAMES.trailer,
  NAMES.transferEncoding,
  NAMES.upgrade,
]

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0))
}

export class ResponseScan {
  buf: Uint8Array = new Uint8Array(0)
  status = 0
  minor: 0 | 1 = 1
  /** Bytes of the head, final empty line included. */
  length = 0
  /** Index of the CR ending the status line. */
  statusEnd = 0
  count = 0
  lines = new Int32Array(3 * 32)
  body: BodyKind = 'close'
  contentLength = 0
  close = false
  keepAlive = false
  /** Lower-cased extra tokens of `Connection` (fields named there are hop-by-hop too). */
  connectionTokens: string[] | undefined
  /** Some field must be dropped when forwarding. */
  hasHopByHop = false
  /** Some `Content-Length` field is present. */
  hasContentLength = false
  #transferEncoding = false

  /**
   * Scan a head at the start of `buf`. Returns false while incomplete;
   * throws `UpstreamError` when malformed or too large.
   */
  scan(buf: Uint8Array): boolean {
    const end = findEnd(buf)
    if (end < 0) {
      if (buf.length > MAX_HEAD) {
        throw protocolError('response head too large')
      }
      return false
    }
    this.#reset(buf, end)
    this.#readStatusLine(buf)
    let pos = this.statusEnd + 2
    while (pos < end - 2) {
      const cr = buf.indexOf(CR, pos)
      if (cr < 0 || buf[cr + 1] !== LF) {
        throw protocolError('malformed header line')
      }
      this.#readField(buf, pos, cr)
      pos = cr + 2
    }
    this.#finishFraming()
    return true
  }

  /** The value of field `i` as a string (for the rare fields that need one). */
  value(i: number): string {
    let s = this.lines[3 * i + 1] + 1
    let e = this.lines[3 * i + 2]
    while (s < e && (this.buf[s] === 0x20 || this.buf[s] === 0x09)) {
      s++
    }
    while (e > s && (this.buf[e - 1] === 0x20 || this.buf[e - 1] === 0x09)) {
      e--
    }
    return Buffer.prototype.latin1Slice.call(this.buf, s, e) as string
  }

  /** Field `i`'s name, compared without regard to case. */
  nameIs(i: number, lower: Uint8Array): boolean {
    const start = this.lines[3 * i]
    if (this.lines[3 * i + 1] - start !== lower.length) {
      return false
    }
    const buf = this.buf
    for (let k = 0; k < lower.length; k++) {
      const c = buf[start + k]
      if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower[k]) {
        return false
      }
    }
    return true
  }

  /** Should field `i` be left out when forwarding? */
  isHopByHop(i: number, dropContentLength: boolean): boolean {
    if (!this.hasHopByHop && !dropContentLength) {
      return false
    }
    if (dropContentLength && this.nameIs(i, NAMES.contentLength)) {
      return true
    }
    for (const name of HOP_BY_HOP) {
      if (this.nameIs(i, name)) {
        return true
      }
    }
    const tokens = this.connectionTokens
    if (tokens) {
      const start = this.lines[3 * i]
      const name = (
        Buffer.prototype.latin1Slice.call(this.buf, start, this.lines[3 * i + 1]) as string
      ).toLowerCase()
      return tokens.includes(name)
    }
    return false
  }

  #reset(buf: Uint8Array, end: number): void {
    this.buf = buf
    this.length = end
    this.count = 0
    this.body = 'close'
    this.contentLength = 0
    this.close = false
    this.keepAlive = false
    this.connectionTokens = undefined
    this.hasHopByHop = false
    this.hasContentLength = false
    this.#transferEncoding = false
  }

  /** `HTTP/1.x SP 3DIGIT SP reason CRLF` (§4). */
  #readStatusLine(buf: Uint8Array): void {
    const cr = buf.indexOf(CR)
    // "HTTP/1.1 200" is 12 bytes; the reason phrase may be empty.
    if (
      cr < 12 ||
      buf[0] !== 0x48 ||
      buf[1] !== 0x54 ||
      buf[2] !== 0x54 ||
      buf[3] !== 0x50 ||
      buf[4] !== 0x2f ||
      buf[5] !== 0x31 ||
      buf[6] !== 0x2e ||
      (buf[7] !== 0x31 && buf[7] !== 0x30) ||
      buf[8] !== 0x20 ||
      (cr > 12 && buf[12] !== 0x20)
    ) {
      throw protocolError('malformed status line')
    }
    const d0 = buf[9] - 0x30
    const d1 = buf[10] - 0x30
    const d2 = buf[11] - 0x30
    if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) {
      throw protocolError('malformed status code')
    }
    this.status = d0 * 100 + d1 * 10 + d2
    this.minor = buf[7] === 0x31 ? 1 : 0
    this.statusEnd = cr
  }

  #readField(buf: Uint8Array, start: number, cr: number): void {
    const colon = buf.indexOf(COLON, start)
    if (
      colon <= start ||
      colon > cr ||
      buf[colon - 1] === 0x20 ||
      buf[start] === 0x20 ||
      buf[start] === 0x09
    ) {
      throw protocolError('malformed header line')
    }
    const i = this.count++
    if (3 * this.count > this.lines.length) {
      const grown = new Int32Array(this.lines.length * 2)
      grown.set(this.lines)
      this.lines = grown
    }
    this.lines[3 * i] = start
    this.lines[3 * i + 1] = colon
    this.lines[3 * i + 2] = cr
    this.#classify(i, colon - start)
  }

  /** Framing and hop-by-hop facts, looked at only for names of the lengths that matter. */
  #classify(i: number, nameLength: number): void {
    switch (nameLength) {
      case 14:
        if (this.nameIs(i, NAMES.contentLength)) {
          this.#readContentLength(this.value(i))
        }
        return
      case 17:
        if (this.nameIs(i, NAMES.transferEncoding)) {
          this.hasHopByHop = true
          this.body = isChunkedLast(this.value(i)) ? 'chunked' : 'close'
          this.#transferEncoding = true
        }
        return
      case 10:
        if (this.nameIs(i, NAMES.connection)) {
          this.hasHopByHop = true
          this.#readConnection(this.value(i))
        } else if (this.nameIs(i, NAMES.keepAlive)) {
          this.hasHopByHop = true
        }
        return
      case 2:
      case 7:
      case 16:
      case 18:
      case 19:
        if (HOP_BY_HOP.some((name) => this.nameIs(i, name))) {
          this.hasHopByHop = true
        }
    }
  }

  /** Framing once every field was read: CL+TE is an error, else TE wins (§6.3). */
  #finishFraming(): void {
    if (this.#transferEncoding) {
      if (this.hasContentLength) {
        throw protocolError('both Content-Length and Transfer-Encoding')
      }
    } else if (this.hasContentLength) {
      this.body = 'length'
    }
  }

  #readContentLength(value: string): void {
    this.contentLength = mergeContentLength(
      this.hasContentLength ? this.contentLength : -1,
      value,
      false,
    )
    this.hasContentLength = true
  }

  #readConnection(value: string): void {
    for (const part of value.split(',')) {
      const token = part.trim().toLowerCase()
      if (token === 'close') {
        this.close = true
      } else if (token === 'keep-alive') {
        this.keepAlive = true
      } else if (token) {
        ;(this.connectionTokens ??= []).push(token)
      }
    }
  }
}

/** Index just past the empty line ending the head, or -1. */
function findEnd(buf: Uint8Array): number {
  const limit = Math.min(buf.length, MAX_HEAD + 4)
  let lf = buf.indexOf(LF)
  while (lf >= 0 && lf < limit) {
    if (lf >= 3 && buf[lf - 1] === CR && buf[lf - 2] === LF && buf[lf - 3] === CR) {
      return lf + 1
    }
    lf = buf.indexOf(LF, lf + 1)
  }
  return -1
}

function protocolError(what: string): UpstreamError {
  return new UpstreamError('ROXY_E_UPSTREAM_PROTOCOL', `upstream sent a ${what}`)
}

/**
 * Copy the head for the client: the status line (version set to HTTP/1.1),
 * every field but the dropped ones, then `extra` (complete field lines) and
 * the empty line. Consecutive kept fields are copied as one run. `body`, if
 * given, is appended so head and first body bytes leave in one write.
 */
export function copyResponseHead(
  scan: ResponseScan,
  dropContentLength: boolean,
  extra: string,
  body: Uint8Array | undefined,
): Buffer {
  const buf = scan.buf
  const lines = scan.lines
  // Runs of bytes to copy, as [start, end) pairs.
  const runs: number[] = [0, scan.statusEnd + 2]
  for (let i = 0; i < scan.count; i++) {
    if (scan.isHopByHop(i, dropContentLength)) {
      continue
    }
    const start = lines[3 * i]
    const end = lines[3 * i + 2] + 2
    if (runs[runs.length - 1] === start) {
      runs[runs.length - 1] = end
    } else {
      runs.push(start, end)
    }
  }
  let size = extra.length + 2 + (body ? body.length : 0)
  for (let r = 0; r < runs.length; r += 2) {
    size += runs[r + 1] - runs[r]
  }
  const out = Buffer.allocUnsafe(size)
  let pos = 0
  for (let r = 0; r < runs.length; r += 2) {
    out.set(buf.subarray(runs[r], runs[r + 1]), pos)
    pos += runs[r + 1] - runs[r]
  }
  // HTTP/1.0 origins are answered to the client as HTTP/1.1 (roxy speaks 1.1).
  out[7] = 0x31
  if (extra.length > 0) {
    pos += out.write(extra, pos, 'latin1')
  }
  out[pos++] = CR
  out[pos++] = LF
  if (body) {
    out.set(body, pos)
  }
  return out
}
