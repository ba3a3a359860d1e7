/**
 * The request head sent to the origin (RFC 9112 §3, RFC 9110 §7.6.1):
 * the request line in origin-form, `Host` from the URI's authority, the
 * client's fields minus hop-by-hop ones, framing re-stated, then — for a
 * WebSocket — the upgrade pair again. Field lines the client sent are
 * copied as bytes; only a head changed by `mangle` is rebuilt from strings.
 */
import type { Target } from '../target.ts'
import { isHopByHop, type Framing } from './framing.ts'
import type { RequestHead } from './head.ts'
import { copyRequestHead } from './request-copy.ts'

/** Lengths of te, host, trailer/upgrade, connection/keep-alive, content-length and the proxy-* ones. */
const DROPPABLE_LENGTHS = new Set([2, 4, 7, 10, 14, 16, 17, 18, 19])

export function buildUpstreamHead(
  head: RequestHead,
  target: Target,
  framing: Framing,
  mangled: readonly string[] | undefined,
  isWebSocket: boolean,
): Buffer {
  const start = `${head.method} ${target.pathAndQuery} HTTP/1.1\r\nHost: ${target.authority}\r\n`
  let end = ''
  if (framing.body === 'length') {
    end += `Content-Length: ${framing.length}\r\n`
  } else if (framing.body === 'chunked') {
    end += 'Transfer-Encoding: chunked\r\n'
  }
  if (isWebSocket) {
    end += `Connection: Upgrade\r\nUpgrade: ${framing.upgrade}\r\n`
  }
  end += '\r\n'
  const isDropped = (name: string) => isDroppedField(name, framing)
  if (mangled !== undefined) {
    let fields = ''
    for (let i = 0; i < mangled.length; i += 2) {
      if (!isDropped(mangled[i])) {
        fields += `${mangled[i]}: ${mangled[i + 1]}\r\n`
      }
    }
    return Buffer.from(start + fields + end, 'latin1')
  }
  return copyRequestHead(head, start, end, isDropped)
}

/** Not forwarded as sent: Host and Content-Length are re-stated, hop-by-hop ones dropped. */
function isDroppedField(name: string, framing: Framing): boolean {
  // Only names of these lengths can be dropped, unless Connection named others:
  // skip the lower-casing for the rest.
  if (framing.connectionTokens === undefined && !DROPPABLE_LENGTHS.has(name.length)) {
    return false
  }
  const lower = name.toLowerCase()
  return lower === 'host' || lower === 'content-length' || isHopByHop(lower, framing)
}
