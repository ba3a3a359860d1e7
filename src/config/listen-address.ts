import { isIP } from 'node:net'
import type { ListenAddress } from './schema.ts'

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
const HOST_NAME = /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/i
const PORT = /^\d{1,5}$/

/**
 * Parses `host:port` or `[ipv6]:port`. The host is an IPv4 literal, a bracketed IPv6
 * literal or a host name; the port is 0..65535 (0: any free port).
 * @throws Error whose message says what is wrong, for the caller to place in the file.
 */
export function parseListenAddress(text: string): ListenAddress {
  const { host, portText } = splitHostPort(text.trim())
  if (!PORT.test(portText) || Number(portText) > 65535) {
    throw new Error(`port must be a number from 0 to 65535, got '${portText}'`)
  }
  checkHost(host)
  return { host, port: Number(portText) }
}

/** Formats a listen address back to `host:port` (brackets around IPv6). */
export function formatListenAddress(address: ListenAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host
  return `${host}:${address.port}`
}

function splitHostPort(text: string): { host: string; portText: string } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close < 0 || text[close + 1] !== ':') {
      throw new Error(`expected '[ipv6]:port', got '${text}'`)
    }
    const host = text.slice(1, close)
    if (isIP(host) !== 6) {
      throw new Error(`'${host}' is not an IPv6 address`)
    }
    return { host, portText: text.slice(close + 2) }
  }
  const colon = text.lastIndexOf(':')
  if (colon < 0) {
    throw new Error(`expected 'host:port', got '${text}'`)
  }
  const host = text.slice(0, colon)
  if (host.includes(':')) {
    throw new Error(`an IPv6 address needs brackets, as '[::1]:8080'`)
  }
  return { host, portText: text.slice(colon + 1) }
}

function checkHost(host: string): void {
  if (host === '') {
    throw new Error(`the host is missing; use '0.0.0.0:PORT' to listen on every interface`)
  }
  if (isIP(host) === 4 || isIP(host) === 6) {
    return
  }
  const looksNumeric = /^[\d.]+$/.test(host)
  if (looksNumeric || !HOST_NAME.test(host) || host.length > 253) {
    throw new Error(`'${host}' is neither an IP address nor a host name`)
  }
}
