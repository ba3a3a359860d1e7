/**
 * Leaves checked by openssl itself: `openssl verify` against the issuing CA (with the
 * hostname or IP and the sslserver purpose), and `openssl x509 -text` for each field.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { X509Certificate } from 'node:crypto'
import { join } from 'node:path'
import { RoxyError } from '../../src/errors.ts'
import { createEphemeralCa, loadCa } from '../../src/tls/certificate-authority.ts'
import type { CertificateAuthority } from '../../src/tls/certificate-authority.ts'
import { LEAF_VALIDITY_DAYS, LeafIssuer, describeHost } from '../../src/tls/leaf-issuer.ts'
import { makeTempDir, run } from './helpers.ts'
import { makeP384Ca, makeRsaCa, writeFile } from './openssl-fixtures.ts'

const DAY_MS = 86_400_000
let dir: ReturnType<typeof makeTempDir>
const cas: Record<string, CertificateAuthority> = {}

beforeAll(async () => {
  dir = makeTempDir('leaf')
  const [rsa, p384] = await Promise.all([makeRsaCa(dir.path), makeP384Ca(dir.path)])
  cas['ephemeral P-256'] = createEphemeralCa({ dir: join(dir.path, 'ephemeral') })
  cas['RSA-2048'] = loadCa(rsa.cert, rsa.key).ca
  cas['P-384'] = loadCa(p384.cert, p384.key).ca
})
afterAll(() => dir.remove())

let fileCount = 0
/** Write the leaf alone (first PEM of the chain) and return its path. */
function writeLeaf(chain: string): string {
  const leaf = chain.slice(0, chain.indexOf('-----END CERTIFICATE-----') + 26)
  return writeFile(dir.path, `leaf-${fileCount++}.pem`, leaf)
}

async function openssl(args: string[]): Promise<string> {
  const res = await run(['openssl', ...args])
  return res.stdout + res.stderr
}

describe.each([
  ['ephemeral P-256', 'ecdsa-with-SHA256'],
  ['RSA-2048', 'sha256WithRSAEncryption'],
  ['P-384', 'ecdsa-with-SHA384'],
])('a leaf signed by a %s CA', (caName, signatureAlgorithm) => {
  test.each([
    ['localhost', '-verify_hostname', 'DNS:localhost'],
    ['api.example.test', '-verify_hostname', 'DNS:api.example.test'],
    ['127.0.0.1', '-verify_ip', 'IP Address:127.0.0.1'],
    ['::1', '-verify_ip', 'IP Address:0:0:0:0:0:0:0:1'],
  ])('should verify for %s as a TLS server certificate', async (host, flag, san) => {
    const ca = cas[caName]
    const leaf = new LeafIssuer(ca).issue(host)
    const path = writeLeaf(leaf.cert)
    const verify = await openssl([
      'verify',
      '-CAfile',
      ca.certPath,
      '-purpose',
      'sslserver',
      flag,
      host,
      path,
    ])
    expect(verify).toContain(`${path}: OK`)
    const text = await openssl(['x509', '-in', path, '-noout', '-text'])
    expect(text).toContain(`Signature Algorithm: ${signatureAlgorithm}`)
    expect(text).toContain(`Subject: CN = ${host}`)
    expect(text).toContain(san)
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/)
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/)
    expect(text).toMatch(/Extended Key Usage: \s*\n\s+TLS Web Server Authentication\n/)
    const keyId = ca.keyId
      .toString('hex')
      .toUpperCase()
      .replace(/(..)(?!$)/g, '$1:')
    expect(text).toMatch(new RegExp(`Authority Key Identifier: \\s*\\n\\s+(keyid:)?${keyId}`))
    expect(text).toContain('Subject Key Identifier')
  })
})

describe('LeafIssuer', () => {
  test('should backdate notBefore a day and expire after LEAF_VALIDITY_DAYS', () => {
    const now = Date.UTC(2027, 0, 15, 12, 0, 0)
    const ca = cas['ephemeral P-256']
    const cert = new X509Certificate(
      new LeafIssuer(ca, { now: () => now }).issue('dated.test').cert,
    )
    expect(cert.validFromDate.getTime()).toBe(now - DAY_MS)
    expect(cert.validToDate.getTime()).toBe(now + LEAF_VALIDITY_DAYS * DAY_MS)
  })

  test('should never outlive the CA', () => {
    const ca = cas['RSA-2048'] // valid for 30 days from now
    const leaf = new LeafIssuer(ca, { now: () => ca.notAfter.getTime() - DAY_MS }).issue(
      'late.test',
    )
    expect(leaf.notAfter).toBe(ca.notAfter.getTime())
    expect(new X509Certificate(leaf.cert).validToDate.getTime()).toBe(ca.notAfter.getTime())
  })

  test('should send the chain leaf + CA and share one key that is not the CA key', () => {
    const ca = cas['ephemeral P-256']
    const issuer = new LeafIssuer(ca)
    const [a, b] = [issuer.issue('a.test'), issuer.issue('b.test')]
    expect(a.cert.endsWith(ca.certPem)).toBe(true)
    expect(a.cert.match(/BEGIN CERTIFICATE/g)).toHaveLength(2)
    expect(a.key).toBe(b.key)
    expect(a.key).toBe(issuer.keyPem)
    expect(a.key).not.toBe(ca.signer.key.export({ type: 'pkcs8', format: 'pem' }))
    const leafA = new X509Certificate(a.cert)
    expect(leafA.checkIssued(new X509Certificate(ca.certPem))).toBe(true)
    expect(leafA.serialNumber).not.toBe(new X509Certificate(b.cert).serialNumber)
    expect(Number.parseInt(leafA.serialNumber[0], 16)).toBeLessThan(8) // positive: top bit clear
  })

  test('should mint the same shape off-thread with issueAsync', async () => {
    const ca = cas['RSA-2048']
    const leaf = await new LeafIssuer(ca).issueAsync('async.test')
    const verify = await openssl([
      'verify',
      '-CAfile',
      ca.certPath,
      '-verify_hostname',
      'async.test',
      writeLeaf(leaf.cert),
    ])
    expect(verify).toContain(': OK')
  })

  test('should leave CN out and mark the SAN critical for a name over 64 characters', async () => {
    const host = `${'a'.repeat(60)}.${'b'.repeat(20)}.test`
    const ca = cas['ephemeral P-256']
    const path = writeLeaf(new LeafIssuer(ca).issue(host).cert)
    const text = await openssl(['x509', '-in', path, '-noout', '-text'])
    expect(text).toContain('Subject: \n')
    expect(text).toContain('X509v3 Subject Alternative Name: critical')
    expect(
      await openssl(['verify', '-CAfile', ca.certPath, '-verify_hostname', host, path]),
    ).toContain(': OK')
  })
})

describe('describeHost', () => {
  test.each([
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['under_score.example', 'under_score.example'],
  ])('should normalise %s to the DNS name %s', (host, dns) => {
    expect(describeHost(host)).toEqual({ commonName: dns, altName: { dns } })
  })

  test.each([
    ['an empty host', ''],
    ['a space', 'a b.test'],
    ['a wildcard', '*.example.com'],
    ['a non-ASCII name', 'bücher.de'],
    ['a leading hyphen', '-lead.test'],
    ['an empty label', 'a..test'],
    ['a label over 63 characters', `${'x'.repeat(64)}.test`],
    ['a name over 253 characters', `${'x'.repeat(60)}.`.repeat(5) + 'test'],
    ['an IPv6 zone id', 'fe80::1%eth0'],
  ])('should refuse %s with ROXY_E_TLS_HOST', (_name, host) => {
    expect(() => describeHost(host)).toThrow(RoxyError)
    try {
      describeHost(host)
    } catch (err) {
      expect((err as RoxyError).code).toBe('ROXY_E_TLS_HOST')
    }
  })
})
