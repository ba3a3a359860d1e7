/**
 * The TLS pieces of a running proxy, from config: the CA (configured or
 * ephemeral), the leaf issuer and its cache, and the upstream trust. Made
 * once at start-up; TLS settings need a restart (SPEC §7).
 */
import type { RoxyConfig } from '../config/index.ts'
import { log } from '../observe/log.ts'
import { CertCache } from '../tls/cert-cache.ts'
import {
  createEphemeralCa,
  loadCa,
  type CertificateAuthority,
} from '../tls/certificate-authority.ts'
import { LeafIssuer } from '../tls/leaf-issuer.ts'
import { createUpstreamTls, type UpstreamTlsBuilder } from '../tls/upstream-tls.ts'

export interface TlsSetup {
  ca: CertificateAuthority
  certs: CertCache
  upstreamTls: UpstreamTlsBuilder
}

export function setUpTls(config: RoxyConfig): TlsSetup {
  const ca = loadOrCreateCa(config)
  const issuer = new LeafIssuer(ca)
  const certs = new CertCache(issuer, { capacity: config.tls.certCacheSize })
  const upstreamTls = createUpstreamTls({
    upstreamCa: config.upstreamCa,
    unsafeSkipVerify: config.unsafeSkipVerify,
  })
  return { ca, certs, upstreamTls }
}

function loadOrCreateCa(config: RoxyConfig): CertificateAuthority {
  const { caCert, caKey } = config.tls
  if (caCert && caKey) {
    const { ca, warnings } = loadCa(caCert, caKey)
    for (const warning of warnings) {
      log.warn('tls', 'CA warning', { warning })
    }
    log.info('tls', 'CA loaded', { cert: ca.certPath, fingerprint: ca.fingerprint })
    return ca
  }
  const ca = createEphemeralCa()
  log.info('tls', 'ephemeral CA created; trust it to intercept HTTPS', {
    cert: ca.certPath,
    fingerprint: ca.fingerprint,
    url: '/ca.pem on the proxy port',
  })
  return ca
}
