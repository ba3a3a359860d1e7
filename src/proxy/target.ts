/**
 * Request targets a forward proxy accepts (RFC 9112 §3.2):
 *
 *   absolute-form  = "http://" authority path-abempty [ "?" query ]   forwarded
 *   authority-form = host ":" port                                  CONNECT only
 *   origin-form    = "/" ...                                        the proxy's own routes
 *
 * `https://` absolute-form is accepted as well (some clients send it when
 * told the proxy speaks TLS-less HTTP): roxy then dials the origin with TLS.
 */
import { ClientError } from '../errors.ts'

export interface Target {
  scheme: 'http' | 'https'
  /** Lower case, IPv6 without brackets. */
  host: string
  port: number
  /** `host[:port]` as sent, for the upstream `Host` header. */
  authority: string
  /** Path and query, at least `/`. */
  pathAndQuery: string
  /** Path without the query, for rules and logs. */
  path: string
  /** `scheme://host:port`: the upstream pool's key. */
  key: string
}

export function parseAbsoluteTarget(target: string): Target {
  const colon = target.indexOf('://')
  const scheme = colon > 0 ? target.slice(0, colon).toLowerCase() : ''
  if (scheme !== 'http' && scheme !== 'https') {
    throw new ClientError('ROXY_E_BAD_REQUEST', 'request target must be an absolute http:// URI')
  }
  const start = colon + 3
  let end = start
  while (end < target.length) {
    const c = target.charCodeAt(end)
    if (c === 0x2f /* / */ || c === 0x3f /* ? */ || c === 0x23 /* # */) {
      break
    }
    end++
  }
  const authority = target.slice(start, end)
  const { host, port } = parseAuthority(authority, scheme === 'https' ? 443 : 80)
  let pathAndQuery = target.slice(end)
  const hash = pathAndQuery.indexOf('#')
  if (hash >= 0) {
    pathAndQuery = pathAndQuery.slice(0, hash)
  }
  if (pathAndQuery === '' || pathAndQuery[0] === '?') {
    pathAndQuery = `/${pathAndQuery}`
  }
  const q = pathAndQuery.indexOf('?')
  const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q)
  return { scheme, host, port, authority, pathAndQuery, path, key: `${scheme}://${host}:${port}` }
}

/** `host:port` of a CONNECT request; the port is required. */
export function parseConnectTarget(target: string): Target {
  const { host, port, hasPort } = parseAuthorityParts(target, 443)
  if (!hasPort) {
    throw new ClientError('ROXY_E_BAD_REQUEST', 'CONNECT target must be host:port')
  }
  return {
    scheme: 'https',
    host,
    port,
    authority: target,
    pathAndQuery: '/',
    path: '/',
    key: `https://${host}:${port}`,
  }
}

export function parseAuthority(
  authority: string,
  defaultPort: number,
): { host: string; port: number } {
  const { host, port } = parseAuthorityParts(authority, defaultPort)
  return { host, port }
}

function parseAuthorityParts(
  authority: string,
  defaultPort: number,
): { host: string; port: number; hasPort: boolean } {
  if (authority.includes('@')) {
    throw new ClientError('ROXY_E_BAD_REQUEST', 'userinfo in the request target is not allowed')
  }
  let host: string
  let rest: string
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']')
    if (close < 0) {
      throw new ClientError('ROXY_E_BAD_REQUEST', 'unterminated IPv6 literal in request target')
    }
    host = authority.slice(1, close)
    rest = authority.slice(close + 1)
  } else {
    const colon = authority.lastIndexOf(':')
    host = colon < 0 ? authority : authority.slice(0, colon)
    rest = colon < 0 ? '' : authority.slice(colon)
  }
  if (!host || !/^[A-Za-z0-9._~%!$&'()*+,;=:-]+$/.test(host)) {
    throw new ClientError('ROXY_E_BAD_REQUEST', 'invalid host in request target')
  }
  if (rest === '') {
    return { host: host.toLowerCase(), port: defaultPort, hasPort: false }
  }
  const port = /^:[0-9]{1,5}$/.test(rest) ? Number(rest.slice(1)) : -1
  if (port < 1 || port > 65535) {
    throw new ClientError('ROXY_E_BAD_REQUEST', 'invalid port in request target')
  }
  return { host: host.toLowerCase(), port, hasPort: true }
}

/**
 * A request inside an intercepted tunnel: origin-form, on the CONNECT's
 * authority (an absolute-form target, rare there, is taken as https).
 */
export function parseInnerTarget(connect: Target, requestTarget: string): Target {
  if (requestTarget.charCodeAt(0) !== 0x2f /* / */) {
    const absolute = parseAbsoluteTarget(requestTarget)
    return { ...absolute, scheme: 'https', key: `https://${absolute.host}:${absolute.port}` }
  }
  const q = requestTarget.indexOf('?')
  return {
    scheme: 'https',
    host: connect.host,
    port: connect.port,
    authority: connect.authority,
    pathAndQuery: requestTarget,
    path: q < 0 ? requestTarget : requestTarget.slice(0, q),
    key: connect.key,
  }
}
