/**
 * Upstream TLS options against local Bun TLS servers whose certificates come from a test
 * CA: untrusted without `upstream_ca`, trusted with it, and each failure classified.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { TCPSocketListener } from 'bun'
import { join } from 'node:path'
import { RoxyError } from '../../src/errors.ts'
import { createEphemeralCa } from '../../src/tls/certificate-authority.ts'
import type { CertificateAuthority } from '../../src/tls/certificate-authority.ts'
import { classifyTlsError } from '../../src/tls/classify-tls-error.ts'
import type { UpstreamTlsFailureKind } from '../../src/tls/classify-tls-error.ts'
import { LeafIssuer } from '../../src/tls/leaf-issuer.ts'
import { buildUpstreamTls, createUpstreamTls } from '../../src/tls/upstream-tls.ts'
import type { UpstreamTlsOptions } from '../../src/tls/upstream-tls.ts'
import { makeTempDir } from './helpers.ts'
import { writeFile } from './openssl-fixtures.ts'

const DAY_MS = 86_400_000
let dir: ReturnType<typeof makeTempDir>
let ca: CertificateAuthority
const servers: Record<string, TCPSocketListener<undefined>> = {}

function listenTls(cert: { cert: string; key: string }): TCPSocketListener<undefined> {
  return Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    tls: cert,
    socket: { data() {}, error() {} },
  })
}

beforeAll(() => {
  dir = makeTempDir('upstream')
  ca = createEphemeralCa({ dir: join(dir.path, 'ca') })
  const issuer = new LeafIssuer(ca)
  const expired = new LeafIssuer(ca, { now: () => Date.now() - 60 * DAY_MS })
  servers.good = listenTls(issuer.issue('localhost'))
  servers.ip = listenTls(issuer.issue('127.0.0.1'))
  servers.expired = listenTls(expired.issue('localhost'))
  servers.closer = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: { open: (s) => void s.end(), data() {} },
  })
})
afterAll(() => {
  for (const server of Object.values(servers)) {
    server.stop(true)
  }
  dir.remove()
})

type Outcome = 'ok' | UpstreamTlsFailureKind

/** Connect with the given options; 'ok' after a verified handshake, else the failure kind. */
function connectWith(server: string, tls: UpstreamTlsOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    Bun.connect({
      hostname: '127.0.0.1',
      port: servers[server].port,
      tls,
      socket: {
        data() {},
        handshake(socket, success, err) {
          resolve(success ? 'ok' : classifyTlsError(err).kind)
          socket.end()
        },
        error: (_socket, err) => resolve(classifyTlsError(err).kind),
        close: (_socket, err) => resolve(classifyTlsError(err ?? { code: 'ECONNRESET' }).kind),
      },
    }).catch((err) => resolve(classifyTlsError(err).kind))
  })
}

describe('upstream TLS options', () => {
  test.each([
    [
      'a server from an unknown CA, without upstream_ca',
      'good',
      'localhost',
      false,
      false,
      'cert-untrusted',
    ],
    ['that server with upstream_ca naming its CA', 'good', 'localhost', true, false, 'ok'],
    ['that server with unsafe_skip_verify', 'good', 'localhost', false, true, 'ok'],
    ['a certificate for another name', 'good', 'other.test', true, false, 'hostname-mismatch'],
    ['an IP literal matching the IP SAN', 'ip', '127.0.0.1', true, false, 'ok'],
    [
      'an IP literal the certificate does not name',
      'good',
      '127.0.0.1',
      true,
      false,
      'hostname-mismatch',
    ],
    ['an expired certificate', 'expired', 'localhost', true, false, 'cert-expired'],
    ['an expired certificate with unsafe_skip_verify', 'expired', 'localhost', false, true, 'ok'],
    ['a server that hangs up at once', 'closer', 'localhost', true, false, 'handshake-reset'],
  ] as const)('should handle %s', async (_name, server, host, withCa, unsafe, expected) => {
    const build = createUpstreamTls({
      upstreamCa: withCa ? ca.certPath : undefined,
      unsafeSkipVerify: unsafe,
    })
    expect(await connectWith(server, build(host))).toBe(expected)
  })

  test('should set SNI for names only, verification unless unsafe, and a context only with upstream_ca', () => {
    const plain = createUpstreamTls({ unsafeSkipVerify: false })
    expect(plain('example.test')).toEqual({ rejectUnauthorized: true, serverName: 'example.test' })
    expect(plain('::1')).toEqual({ rejectUnauthorized: true })
    const unsafe = createUpstreamTls({ unsafeSkipVerify: true })
    expect(unsafe('example.test').rejectUnauthorized).toBe(false)
    const withCa = createUpstreamTls({ upstreamCa: ca.certPath, unsafeSkipVerify: false })
    expect(withCa('a.test').secureContext).toBeDefined()
    expect(withCa('a.test').secureContext).toBe(withCa('b.test').secureContext)
  })

  test('should build the trust context once per settings in buildUpstreamTls', () => {
    const settings = { upstreamCa: ca.certPath, unsafeSkipVerify: false }
    const a = buildUpstreamTls({ ...settings, serverName: 'a.test' })
    const b = buildUpstreamTls({ ...settings, serverName: 'b.test' })
    expect(a.serverName).toBe('a.test')
    expect(a.secureContext).toBe(b.secureContext)
  })

  test.each([
    [
      'a missing file',
      () => '/nonexistent/bundle.pem',
      'cannot read upstream_ca file /nonexistent/bundle.pem',
    ],
    [
      'a file without certificates',
      () => writeFile(dir.path, 'empty.pem', 'nothing here\n'),
      'holds no PEM certificate',
    ],
    [
      'a damaged certificate',
      () =>
        writeFile(
          dir.path,
          'bad.pem',
          `${ca.certPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`,
        ),
      'certificate #2 in upstream_ca file',
    ],
  ])('should refuse %s with ROXY_E_TLS_UPSTREAM_CA', (_name, path, fragment) => {
    let caught: unknown
    try {
      createUpstreamTls({ upstreamCa: path(), unsafeSkipVerify: false })
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(RoxyError)
    expect((caught as RoxyError).code).toBe('ROXY_E_TLS_UPSTREAM_CA')
    expect((caught as RoxyError).message).toContain(fragment)
  })
})
