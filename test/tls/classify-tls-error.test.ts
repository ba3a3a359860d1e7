import { describe, expect, test } from 'bun:test'
import { RoxyError } from '../../src/errors.ts'
import { classifyClientTlsFailure, classifyTlsError } from '../../src/tls/classify-tls-error.ts'

function bunError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code })
}

describe('classifyTlsError (upstream)', () => {
  test.each([
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self signed certificate in certificate chain', 'cert-untrusted'],
    [
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'unable to get local issuer certificate',
      'cert-untrusted',
    ],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self signed certificate', 'cert-untrusted'],
    ['CERT_HAS_EXPIRED', 'certificate has expired', 'cert-expired'],
    ['CERT_NOT_YET_VALID', 'certificate is not yet valid', 'cert-expired'],
    [
      'ERR_TLS_CERT_ALTNAME_INVALID',
      "Hostname/IP does not match certificate's altnames",
      'hostname-mismatch',
    ],
    [
      'ECONNRESET',
      'Client network socket disconnected before secure TLS connection was established',
      'handshake-reset',
    ],
    ['ETIMEDOUT', 'connect timed out', 'timeout'],
    [
      'EPROTO',
      'error:10000410:SSL routines:OPENSSL_internal:SSLV3_ALERT_HANDSHAKE_FAILURE',
      'unknown',
    ],
  ] as const)('should classify %s', (code, message, kind) => {
    const failure = classifyTlsError(bunError(message, code))
    expect(failure.kind).toBe(kind)
    expect(failure.reason).toContain(message)
    expect(failure.reason).toContain(code)
  })

  test('should classify roxy’s own upstream timeout', () => {
    const err = new RoxyError('ROXY_E_UPSTREAM_TIMEOUT', 'no TLS handshake within 15 s')
    expect(classifyTlsError(err)).toEqual({
      kind: 'timeout',
      reason:
        'upstream TLS handshake timed out: no TLS handshake within 15 s (ROXY_E_UPSTREAM_TIMEOUT)',
    })
  })

  test.each([null, undefined, 'a string', 42])(
    'should call %p unknown without throwing',
    (value) => {
      expect(classifyTlsError(value).kind).toBe('unknown')
    },
  )
})

describe('classifyClientTlsFailure (intercepted client)', () => {
  test.each([
    [
      'a plaintext unknown_ca alert (curl, TLS 1.3)',
      'error:10000070:SSL routines:OPENSSL_internal:BAD_PACKET_LENGTH',
      48,
      'cert-rejected',
    ],
    ['a plaintext bad_certificate alert', 'anything', 42, 'cert-rejected'],
    [
      'an unknown_ca alert BoringSSL decoded',
      'error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA',
      undefined,
      'cert-rejected',
    ],
    [
      'a certificate_unknown alert',
      'error:1000042e:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_UNKNOWN',
      undefined,
      'cert-rejected',
    ],
    [
      'no shared cipher',
      'error:100000b8:SSL routines:OPENSSL_internal:NO_SHARED_CIPHER',
      undefined,
      'no-shared-cipher',
    ],
    [
      'an RSA-only client against the EC leaf',
      'error:100000f3:SSL routines:OPENSSL_internal:WRONG_CURVE',
      undefined,
      'no-shared-cipher',
    ],
    [
      'garbage after 0x16',
      'error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER',
      undefined,
      'protocol-error',
    ],
    [
      'a non-certificate alert with a bad packet',
      'error:10000070:SSL routines:OPENSSL_internal:BAD_PACKET_LENGTH',
      40,
      'protocol-error',
    ],
    [
      'a hang-up',
      'Client network socket disconnected before secure TLS connection was established',
      undefined,
      'reset',
    ],
    [
      'something new',
      'error:1000006b:SSL routines:OPENSSL_internal:SOMETHING_NEW',
      undefined,
      'unknown',
    ],
  ] as const)('should classify %s', (_name, message, alert, kind) => {
    expect(classifyClientTlsFailure(bunError(message, 'EPROTO'), alert).kind).toBe(kind)
  })

  test('should name the alert in the reason', () => {
    expect(classifyClientTlsFailure(undefined, 48).reason).toBe(
      'client rejected the certificate (alert unknown_ca)',
    )
  })

  test('should treat a bare ECONNRESET code as a reset', () => {
    expect(classifyClientTlsFailure({ code: 'ECONNRESET' }).kind).toBe('reset')
  })
})
