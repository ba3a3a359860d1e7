import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { X509Certificate } from 'node:crypto'
import { chmodSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { RoxyError } from '../../src/errors.ts'
import type { RoxyErrorCode } from '../../src/errors.ts'
import { createEphemeralCa, initCa, loadCa } from '../../src/tls/certificate-authority.ts'
import { makeTempDir, run } from './helpers.ts'
import { makeOpensslCa, makeP384Ca, makeRsaCa, writeFile } from './openssl-fixtures.ts'
import type { CaFiles } from './openssl-fixtures.ts'

let dir: ReturnType<typeof makeTempDir>
let rsa: CaFiles
let p384: CaFiles
let notCa: CaFiles
let ed25519: CaFiles

beforeAll(async () => {
  dir = makeTempDir('ca')
  ;[rsa, p384, notCa, ed25519] = await Promise.all([
    makeRsaCa(dir.path),
    makeP384Ca(dir.path),
    makeOpensslCa(
      dir.path,
      'leafish',
      ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      ['-addext', 'basicConstraints=critical,CA:FALSE'],
    ),
    makeOpensslCa(dir.path, 'ed25519-ca', ['ed25519']),
  ])
})
afterAll(() => dir.remove())

function expectCaError(fn: () => unknown, code: RoxyErrorCode, fragment: string): void {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(RoxyError)
    expect((err as RoxyError).code).toBe(code)
    expect((err as RoxyError).message).toContain(fragment)
    return
  }
  throw new Error('expected a RoxyError')
}

describe('loadCa with PEM files', () => {
  test.each([
    ['an RSA key', () => rsa, 'sha256'],
    ['an EC P-384 key', () => p384, 'sha384'],
  ] as const)('should load a CA with %s and pick the matching digest', (_name, files, digest) => {
    const { ca, warnings } = loadCa(files().cert, files().key)
    expect(warnings).toEqual([])
    expect(ca.signer.digest).toBe(digest)
    expect(ca.ephemeral).toBe(false)
    expect(ca.certPath).toBe(files().cert)
    expect(ca.fingerprint).toBe(new X509Certificate(readFileSync(files().cert)).fingerprint256)
    expect(ca.keyId).toHaveLength(20)
  })

  test('should warn when the key is readable by group or others', () => {
    const key = writeFile(dir.path, 'loose.key', readFileSync(rsa.key, 'utf8'))
    chmodSync(key, 0o640)
    const { warnings } = loadCa(rsa.cert, key)
    expect(warnings).toEqual([
      expect.stringContaining(`CA key ${key} is readable by group or others (mode 0640)`),
    ])
  })

  test.each([
    ['a missing certificate file', () => ['/nonexistent/ca.crt', rsa.key], '/nonexistent/ca.crt'],
    ['a missing key file', () => [rsa.cert, '/nonexistent/ca.key'], '/nonexistent/ca.key'],
    [
      'a certificate file without PEM',
      () => [writeFile(dir.path, 'junk.crt', 'hello'), rsa.key],
      'junk.crt holds no PEM certificate',
    ],
    [
      'a truncated certificate',
      () => [
        writeFile(
          dir.path,
          'cut.crt',
          readFileSync(rsa.cert, 'utf8').slice(0, 200) + '\n-----END CERTIFICATE-----\n',
        ),
        rsa.key,
      ],
      'cut.crt',
    ],
    [
      'a key file without a key',
      () => [rsa.cert, writeFile(dir.path, 'junk.key', 'nope')],
      'junk.key holds no usable PEM private key',
    ],
    [
      'a key of another CA',
      () => [rsa.cert, p384.key],
      'p384-ca.key is not the private key of the CA certificate',
    ],
    ['a certificate that is not a CA', () => [notCa.cert, notCa.key], 'is not a CA certificate'],
    ['an Ed25519 key', () => [ed25519.cert, ed25519.key], 'unsupported key type ed25519'],
  ])('should refuse %s with ROXY_E_TLS_CA naming the file', (_name, paths, fragment) => {
    const [cert, key] = paths()
    expectCaError(() => loadCa(cert, key), 'ROXY_E_TLS_CA', fragment)
  })

  test('should say that passphrase-protected keys are not supported', async () => {
    const key = join(dir.path, 'encrypted.key')
    await run([
      'openssl',
      'pkey',
      '-in',
      rsa.key,
      '-aes256',
      '-passout',
      'pass:secret',
      '-out',
      key,
    ])
    expectCaError(
      () => loadCa(rsa.cert, key),
      'ROXY_E_TLS_CA',
      'passphrase-protected keys are not supported',
    )
  })

  test('should refuse an expired CA', () => {
    const inFortyDays = Date.now() + 40 * 86_400_000
    expectCaError(() => loadCa(rsa.cert, rsa.key, inFortyDays), 'ROXY_E_TLS_CA', 'expired on')
  })
})

describe('initCa for `roxy ca init --out DIR`', () => {
  test('should write ca.key with mode 0600 and a self-signed CA certificate that loads cleanly', async () => {
    const out = join(dir.path, 'init')
    const written = initCa(out)
    expect(statSync(written.keyPath).mode & 0o777).toBe(0o600)
    expect(readdirSync(out).sort()).toEqual(['ca.crt', 'ca.key'])
    const { ca, warnings } = loadCa(written.certPath, written.keyPath)
    expect(warnings).toEqual([])
    expect(ca.fingerprint).toBe(written.fingerprint)
    const verify = await run(['openssl', 'verify', '-CAfile', written.certPath, written.certPath])
    expect(verify.stdout).toContain(': OK')
    const text = await run(['openssl', 'x509', '-in', written.certPath, '-noout', '-text'])
    expect(text.stdout).toContain('CA:TRUE, pathlen:0')
    expect(text.stdout).toContain('Certificate Sign, CRL Sign')
  })

  test('should refuse to overwrite without force, and replace both files with force', () => {
    const out = join(dir.path, 'init-twice')
    const first = initCa(out)
    expectCaError(
      () => initCa(out),
      'ROXY_E_TLS_CA_EXISTS',
      `${first.keyPath} already exists; pass --force`,
    )
    chmodSync(first.keyPath, 0o644)
    const second = initCa(out, { force: true })
    expect(second.fingerprint).not.toBe(first.fingerprint)
    expect(statSync(second.keyPath).mode & 0o777).toBe(0o600)
    expect(loadCa(second.certPath, second.keyPath).ca.fingerprint).toBe(second.fingerprint)
  })
})

describe('createEphemeralCa', () => {
  test('should write only the certificate, readable by all, and keep the key in memory', () => {
    const out = join(dir.path, 'ephemeral')
    const ca = createEphemeralCa({ dir: out })
    expect(readdirSync(out)).toEqual(['roxy-ca.pem'])
    expect(ca.certPath).toBe(join(out, 'roxy-ca.pem'))
    expect(statSync(ca.certPath).mode & 0o777).toBe(0o644)
    expect(readFileSync(ca.certPath, 'utf8')).toBe(ca.certPem)
    expect(ca.ephemeral).toBe(true)
    const cert = new X509Certificate(ca.certPem)
    expect(cert.ca).toBe(true)
    expect(cert.subject).toContain('CN=roxy ephemeral CA')
  })

  test('should make a private temp directory when none is given', () => {
    const ca = createEphemeralCa()
    rmSync(dirname(ca.certPath), { recursive: true })
    expect(ca.certPath).toMatch(/roxy-ca-[^/]+\/roxy-ca\.pem$/)
  })
})
