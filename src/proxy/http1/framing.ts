/**
 * Message framing and connection semantics from the header list
 * (RFC 9112 §6–§9), for requests and responses alike.
 *
 * One pass over the flat header array collects what the proxy needs to
 * decide: how the body is delimited, whether the connection persists, which
 * headers are hop-by-hop. Ambiguous framing is an error, never a guess:
 * CL + TE together, differing Content-Lengths, or a Transfer-Encoding whose
 * final coding is not chunked (on a request) are rejected (§6.3).
 */
import { ClientError, UpstreamError } from '../../errors.ts'

export type BodyKind = 'none' | 'length' | 'chunked' | 'close'

export interface Framing {
  body: BodyKind
  /** Byte count when `body` is `length`. */
  length: number
  /** `Connection: close` was sent. */
  close: boolean
  /** `Connection: keep-alive` was sent (matters for HTTP/1.0). */
  keepAlive: boolean
  /** Lower-cased names listed in `Connection`, which are hop-by-hop too (RFC 9110 §7.6.1). */
  connectionTokens: string[] | undefined
  /** Number of `Host` fields. */
  hosts: number
  /** `Expect: 100-continue` was sent. */
  expectContinue: boolean
  /** Value of `Upgrade`, if any. */
  upgrade: string | undefined
}

/** Headers that describe one hop and are never forwarded (SPEC §3). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

export function isHopByHop(lowerName: string, framing: Framing): boolean {
  return (
    HOP_BY_HOP.has(lowerName) ||
    (framing.connectionTokens !== undefined && framing.connectionTokens.includes(lowerName))
  )
}

/**
 * Read the framing-relevant fields. `isRequest` selects the request rules:
 * a request without CL or TE has no body, and an unknown final transfer
 * coding is an error; a response without either is read until close.
 */
export function readFraming(headers: readonly string[], isRequest: boolean): Framing {
  const framing: Framing = {
    body: isRequest ? 'none' : 'close',
    length: 0,
    close: false,
    keepAlive: false,
    connectionTokens: undefined,
    hosts: 0,
    expectContinue: false,
    upgrade: undefined,
  }
  let contentLength = -1
  let transferEncoding: string | undefined
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]
    // Only names of these lengths matter; skip the lower-casing for the rest.
    const n = name.length
    if (n !== 4 && n !== 6 && n !== 7 && n !== 10 && n !== 14 && n !== 17) {
      continue
    }
    const lower = name.toLowerCase()
    const value = headers[i + 1]
    switch (lower) {
      case 'host':
        framing.hosts++
        break
      case 'content-length':
        contentLength = mergeContentLength(contentLength, value, isRequest)
        break
      case 'transfer-encoding':
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`
        break
      case 'connection':
        readConnection(framing, value)
        break
      case 'expect':
        framing.expectContinue = value.toLowerCase() === '100-continue'
        break
      case 'upgrade':
        framing.upgrade = value
        break
    }
  }
  if (transferEncoding !== undefined) {
    if (contentLength >= 0) {
      throw protocolError(isRequest, 'both Content-Length and Transfer-Encoding')
    }
    if (isChunkedLast(transferEncoding)) {
      framing.body = 'chunked'
    } else if (isRequest) {
      throw protocolError(true, `unsupported Transfer-Encoding ${JSON.stringify(transferEncoding)}`)
    } else {
      framing.body = 'close'
    }
  } else if (contentLength >= 0) {
    framing.body = contentLength === 0 && isRequest ? 'none' : 'length'
    framing.length = contentLength
  }
  return framing
}

function readConnection(framing: Framing, value: string): void {
  for (const part of value.split(',')) {
    const token = part.trim().toLowerCase()
    if (!token) {
      continue
    }
    if (token === 'close') {
      framing.close = true
    } else if (token === 'keep-alive') {
      framing.keepAlive = true
    }
    ;(framing.connectionTokens ??= []).push(token)
  }
}

/**
 * Content-Length: 1*DIGIT; repeats allowed only when identical (RFC 9110 §8.6).
 * `previous` is the length read so far (-1: none). Throws on a bad or differing value.
 */
export function mergeContentLength(previous: number, value: string, isRequest: boolean): number {
  let parsed = -1
  for (const part of value.split(',')) {
    const digits = part.trim()
    if (!/^[0-9]{1,15}$/.test(digits)) {
      throw protocolError(isRequest, `invalid Content-Length ${JSON.stringify(value)}`)
    }
    const n = Number(digits)
    if (parsed >= 0 && n !== parsed) {
      throw protocolError(isRequest, 'differing Content-Length values')
    }
    parsed = n
  }
  if (previous >= 0 && previous !== parsed) {
    throw protocolError(isRequest, 'differing Content-Length values')
  }
  return parsed
}

/** The final transfer coding is `chunked` (RFC 9112 §6.3). */
export function isChunkedLast(te: string): boolean {
  const comma = te.lastIndexOf(',')
  return (
    te
      .slice(comma + 1)
      .trim()
      .toLowerCase() === 'chunked'
  )
}

/** Framing faults are the client's (400) on requests and the upstream's (502) on responses. */
function protocolError(isRequest: boolean, message: string): Error {
  if (isRequest) {
    return new ClientError('ROXY_E_BAD_REQUEST', message)
  }
  return new UpstreamError('ROXY_E_UPSTREAM_PROTOCOL', `upstream sent ${message}`)
}
