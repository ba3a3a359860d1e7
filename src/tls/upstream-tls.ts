/**
 * TLS options for connections to upstream servers, for `Bun.connect({ tls })`.
 *
 * Trust: what the runtime trusts by default (Bun's bundled Mozilla roots, plus
 * NODE_EXTRA_CA_CERTS, plus the OS store under NODE_USE_SYSTEM_CA=1 or --use-system-ca),
 * plus every certificate in `upstream_ca`. A `ca` option replaces Bun's roots rather
 * than adding to them (bun-types: "Mozilla's CAs are completely replaced"), so the
 * defaults are listed with `tls.getCACertificates('default')` and combined with the
 * bundle. That list is turned into one secure context at start-up: passing the
 * 260-certificate array per connection costs about 0.4 ms of CPU per handshake
 * (Bun 1.4.5, measured in docs/tls.md), the shared context nothing.
 *
 * Without `upstream_ca` no `ca` is passed at all, and Bun's own default store is used.
 */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { getCACertificates } from 'node:tls'
import { isIP } from 'node:net'
import type { TLSOptions } from 'bun'
import { RoxyError } from '../errors.ts'
import { createNativeSecureContext } from './native-secure-context.ts'
import type { NativeSecureContext } from './native-secure-context.ts'

export interface UpstreamTlsSettings {
  /** `upstream_ca`: a PEM bundle of extra CAs trusted for upstream TLS. */
  upstreamCa?: string
  /** `unsafe_skip_verify`: accept any upstream certificate. */
  unsafeSkipVerify: boolean
}

/** Bun's TLS options plus `secureContext` (see native-secure-context.ts). */
export interface UpstreamTlsOptions extends TLSOptions {
  secureContext?: NativeSecureContext
}

/** Builds the per-host options; made once per settings, cheap per connection. */
export type UpstreamTlsBuilder = (serverName: string) => UpstreamTlsOptions

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/**
 * Load `upstream_ca` (throws `ROXY_E_TLS_UPSTREAM_CA` naming the file) and return a
 * builder of per-host options: SNI = host (omitted for IP literals, RFC 6066 §3),
 * verification on unless `unsafeSkipVerify`.
 */
export function createUpstreamTls(settings: UpstreamTlsSettings): UpstreamTlsBuilder {
  const rejectUnauthorized = !settings.unsafeSkipVerify
  const secureContext = settings.upstreamCa ? buildTrustContext(settings.upstreamCa) : undefined
  return (serverName) => {
    const options: UpstreamTlsOptions = { rejectUnauthorized }
    if (!isIP(serverName)) {
      options.serverName = serverName
    }
    if (secureContext) {
      options.secureContext = secureContext
    }
    return options
  }
}

const builders = new Map<string, UpstreamTlsBuilder>()

/** One-call form of `createUpstreamTls`, remembering the builder per settings. */
export function buildUpstreamTls(
  settings: UpstreamTlsSettings & { serverName: string },
): UpstreamTlsOptions {
  const key = `${settings.unsafeSkipVerify}\0${settings.upstreamCa ?? ''}`
  let builder = builders.get(key)
  if (!builder) {
    builder = createUpstreamTls(settings)
    builders.set(key, builder)
  }
  return builder(settings.serverName)
}

/** The runtime's default roots plus the bundle, as one native secure context. */
function buildTrustContext(bundlePath: string): NativeSecureContext {
  const extra = readBundle(bundlePath)
  return createNativeSecureContext({ ca: [...getCACertificates('default'), ...extra] })
}

function readBundle(path: string): string[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new RoxyError('ROXY_E_TLS_UPSTREAM_CA', `cannot read upstream_ca file ${path}`, {
      cause: err,
    })
  }
  const pems = text.match(PEM_CERTIFICATE) ?? []
  if (pems.length === 0) {
    throw new RoxyError(
      'ROXY_E_TLS_UPSTREAM_CA',
      `upstream_ca file ${path} holds no PEM certificate`,
    )
  }
  pems.forEach((pem, index) => checkCertificate(pem, path, index))
  return pems
}

function checkCertificate(pem: string, path: string, index: number): void {
  try {
    new X509Certificate(pem)
  } catch (err) {
    const message = `certificate #${index + 1} in upstream_ca file ${path} does not parse`
    throw new RoxyError('ROXY_E_TLS_UPSTREAM_CA', message, { cause: err })
  }
}
