/**
 * Why a TLS handshake failed, as a closed union: a log field, and the one-line reason of
 * a 502. Two sides:
 *
 * - upstream (roxy is the client): `classifyTlsError`, from the error Bun reports
 *   (OpenSSL verification codes such as CERT_HAS_EXPIRED, node-style ERR_TLS_*, errno);
 * - client of an intercepted tunnel (roxy is the server): `classifyClientTlsFailure`,
 *   from BoringSSL's error text and, when the client sent one in the clear, its alert.
 *
 * Only `unknown` deserves a loud log line; the rest are the peer's business.
 */

export type UpstreamTlsFailureKind =
  | 'cert-untrusted'
  | 'cert-expired'
  | 'hostname-mismatch'
  | 'handshake-reset'
  | 'timeout'
  | 'unknown'

export interface UpstreamTlsFailure {
  kind: UpstreamTlsFailureKind
  /** One human line, e.g. `certificate has expired (CERT_HAS_EXPIRED)`. */
  reason: string
}

const UNTRUSTED_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
])
const EXPIRED_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'])
const HOSTNAME_CODES = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH'])
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_SOCKET_CLOSED'])
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'ROXY_E_UPSTREAM_TIMEOUT',
])

const FRIENDLY: Record<UpstreamTlsFailureKind, string> = {
  'cert-untrusted': 'upstream certificate is not trusted',
  'cert-expired': 'upstream certificate is expired or not yet valid',
  'hostname-mismatch': 'upstream certificate does not name the host',
  'handshake-reset': 'upstream closed the connection during the TLS handshake',
  timeout: 'upstream TLS handshake timed out',
  unknown: 'upstream TLS handshake failed',
}

/** Classify an upstream TLS failure from the error Bun handed to `handshake` or `error`. */
export function classifyTlsError(err: unknown): UpstreamTlsFailure {
  const code = readCode(err)
  const kind = kindOfCode(code)
  const detail = err instanceof Error ? err.message : String(err)
  const suffix = code && !detail.includes(code) ? ` (${code})` : ''
  return { kind, reason: `${FRIENDLY[kind]}: ${detail}${suffix}` }
}

function kindOfCode(code: string): UpstreamTlsFailureKind {
  if (UNTRUSTED_CODES.has(code)) {
    return 'cert-untrusted'
  }
  if (EXPIRED_CODES.has(code)) {
    return 'cert-expired'
  }
  if (HOSTNAME_CODES.has(code)) {
    return 'hostname-mismatch'
  }
  if (RESET_CODES.has(code)) {
    return 'handshake-reset'
  }
  return TIMEOUT_CODES.has(code) ? 'timeout' : 'unknown'
}

export type ClientTlsFailureKind =
  'cert-rejected' | 'no-shared-cipher' | 'protocol-error' | 'reset' | 'timeout' | 'unknown'

export interface ClientTlsFailure {
  kind: ClientTlsFailureKind
  reason: string
}

/** TLS alert descriptions (RFC 8446 §6) that mean "I do not accept your certificate". */
const CERT_ALERTS = new Map([
  [42, 'bad_certificate'],
  [43, 'unsupported_certificate'],
  [44, 'certificate_revoked'],
  [45, 'certificate_expired'],
  [46, 'certificate_unknown'],
  [48, 'unknown_ca'],
])

/** BoringSSL reason strings, as found in Bun's handshake error messages. */
const CERT_REASONS = /ALERT_(BAD_CERTIFICATE|UNSUPPORTED_CERTIFICATE|CERTIFICATE_\w+|UNKNOWN_CA)/
const CIPHER_REASONS =
  /NO_SHARED_CIPHER|WRONG_CURVE|NO_SHARED_GROUP|UNSUPPORTED_PROTOCOL|ALERT_HANDSHAKE_FAILURE|ALERT_PROTOCOL_VERSION/
const PROTOCOL_REASONS =
  /WRONG_VERSION_NUMBER|BAD_PACKET|UNEXPECTED_RECORD|UNEXPECTED_MESSAGE|DECODE_ERROR|HTTP_REQUEST|EXCESSIVE_MESSAGE_SIZE/
const RESET_REASONS = /disconnected before secure TLS|ECONNRESET|EPIPE/

/**
 * Classify a client's failed handshake on an intercepted tunnel. `alert` is the alert
 * description the client sent in a plaintext record, if one was seen: OpenSSL 3 clients
 * (curl) send `unknown_ca` unencrypted in TLS 1.3, which BoringSSL reports only as
 * BAD_PACKET_LENGTH, so the alert is the better witness.
 */
export function classifyClientTlsFailure(err: unknown, alert?: number): ClientTlsFailure {
  const alertName = alert === undefined ? undefined : CERT_ALERTS.get(alert)
  if (alertName) {
    return { kind: 'cert-rejected', reason: `client rejected the certificate (alert ${alertName})` }
  }
  const code = readCode(err)
  const text = `${err instanceof Error ? err.message : String(err ?? '')} ${code}`
  if (CERT_REASONS.test(text)) {
    return { kind: 'cert-rejected', reason: `client rejected the certificate: ${text.trim()}` }
  }
  if (CIPHER_REASONS.test(text)) {
    return { kind: 'no-shared-cipher', reason: `no cipher or version in common: ${text.trim()}` }
  }
  if (PROTOCOL_REASONS.test(text)) {
    return { kind: 'protocol-error', reason: `client spoke no valid TLS: ${text.trim()}` }
  }
  if (RESET_REASONS.test(text) || RESET_CODES.has(code)) {
    // BoringSSL clients (Chrome, Bun) reject a certificate by closing without an alert.
    return { kind: 'reset', reason: 'client closed the connection during the handshake' }
  }
  return { kind: 'unknown', reason: `client handshake failed: ${text.trim()}` }
}

function readCode(err: unknown): string {
  const code = (err as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' ? code : ''
}
