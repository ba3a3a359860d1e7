/**
 * TLS interception end to end: a real Bun.listen proxy (test/tls/intercept-proxy.ts),
 * real curl and openssl clients, certificates from an ephemeral CA made for this file.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import type { Socket as NetSocket } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CertCache } from '../../src/tls/cert-cache.ts'
import { createEphemeralCa } from '../../src/tls/certificate-authority.ts'
import type { CertificateAuthority } from '../../src/tls/certificate-authority.ts'
import { TlsInterceptor, isTlsClientHello } from '../../src/tls/intercept.ts'
import { LeafIssuer } from '../../src/tls/leaf-issuer.ts'
import { makeTempDir, run, waitFor } from './helpers.ts'
import { startInterceptProxy } from './intercept-proxy.ts'
import type { InterceptProxy } from './intercept-proxy.ts'

const HANDSHAKE_TIMEOUT_MS = 300
let dir: ReturnType<typeof makeTempDir>
let ca: CertificateAuthority
let proxy: InterceptProxy

beforeAll(() => {
  dir = makeTempDir('intercept')
  ca = createEphemeralCa({ dir: dir.path })
  proxy = startInterceptProxy(new CertCache(new LeafIssuer(ca), { capacity: 16 }), {
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
  })
})
afterAll(() => {
  proxy.stop()
  dir.remove()
})

function curl(args: string[]) {
  return run(['curl', '-sS', '--max-time', '10', '-x', `http://127.0.0.1:${proxy.port}`, ...args])
}

/** Everything opened has closed, and no handshake is left pending. */
async function expectNoLeak(): Promise<void> {
  await waitFor(() => proxy.stats.openRaw === 0 && proxy.stats.intercepts === proxy.stats.tlsCloses)
  expect(proxy.interceptor.handshaking).toBe(0)
}

/** A raw tunnel: CONNECT sent and its 200 read; the caller writes what follows. */
function openTunnel(host: string): Promise<NetSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxy.port, '127.0.0.1', () => {
      socket.write(`CONNECT ${host}:443 HTTP/1.1\r\nHost: ${host}:443\r\n\r\n`)
    })
    socket.once('data', () => resolve(socket))
    socket.once('error', reject)
  })
}

function waitClosed(socket: NetSocket): Promise<void> {
  return new Promise((resolve) =>
    socket.closed ? resolve() : socket.once('close', () => resolve()),
  )
}

/** The first bytes of a ClientHello record: enough to start a handshake, not to finish it. */
const PARTIAL_CLIENT_HELLO = Buffer.from('16030100c8010000c40303' + '00'.repeat(32), 'hex')

describe('isTlsClientHello', () => {
  test.each([
    ['a TLS handshake record', [0x16, 0x03, 0x01], true],
    ['an HTTP request', [...Buffer.from('GET / HTTP/1.1')], false],
    ['an SSH banner', [...Buffer.from('SSH-2.0')], false],
    ['nothing', [], false],
  ])('should classify %s', (_name, bytes, expected) => {
    expect(isTlsClientHello(Uint8Array.from(bytes))).toBe(expected)
  })
})

describe('a CONNECT tunnel intercepted with the minted leaf', () => {
  test('should serve several keep-alive requests to curl trusting the CA, over one tunnel', async () => {
    const before = { ...proxy.stats }
    const res = await curl([
      '--cacert',
      ca.certPath,
      'https://localhost/a',
      'https://localhost/b?q=1',
    ])
    expect(res.stderr).toBe('')
    expect(res.stdout).toBe('hello localhost /ahello localhost /b?q=1')
    expect(proxy.stats.connects - before.connects).toBe(1)
    expect(proxy.stats.requests - before.requests).toBe(2)
    await expectNoLeak()
  })

  test.each([
    ['https://127.0.0.1/v4', '127.0.0.1'],
    ['https://[::1]/v6', '::1'],
  ])('should present an IP subjectAltName for %s', async (url, host) => {
    const res = await curl(['-v', '--cacert', ca.certPath, url])
    expect(res.code).toBe(0)
    expect(res.stdout).toBe(`hello ${host} ${new URL(url).pathname}`)
    expect(res.stderr).toContain(`subjectAltName: host "${host}" matched cert's IP address!`)
    expect(res.stderr).toContain('ALPN: server accepted http/1.1')
    await expectNoLeak()
  })

  test('should send leaf + CA, with the IPv6 SAN, to openssl s_client', async () => {
    const res = await run(
      [
        'openssl',
        's_client',
        '-proxy',
        `127.0.0.1:${proxy.port}`,
        '-connect',
        '[::1]:443',
        '-showcerts',
        '-verify_return_error',
        '-CAfile',
        ca.certPath,
      ],
      { stdin: '' },
    )
    const pems: string[] =
      res.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? []
    expect(pems).toHaveLength(2)
    expect(res.stdout).toContain('Verify return code: 0 (ok)')
    const leafPath = join(dir.path, 'served-leaf.pem')
    writeFileSync(leafPath, pems[0])
    const text = await run(['openssl', 'x509', '-in', leafPath, '-noout', '-text'])
    expect(text.stdout).toContain('IP Address:0:0:0:0:0:0:0:1')
    expect(pems[1].replace(/\n/g, '')).toBe(ca.certPem.replace(/\n/g, ''))
    await expectNoLeak()
  })
})

describe('the plaintext socket of an intercepted tunnel', () => {
  test('should stream a 16 MiB body with backpressure: partial writes, then drain', async () => {
    const size = 16 * 1024 * 1024
    const before = { ...proxy.stats }
    const res = await curl([
      '--cacert',
      ca.certPath,
      '--limit-rate',
      '64M',
      '-o',
      '/dev/null',
      '-w',
      '%{size_download}',
      `https://big.test/big/${size}`,
    ])
    expect(res.stdout).toBe(String(size))
    expect(proxy.stats.partialWrites).toBeGreaterThan(before.partialWrites)
    expect(proxy.stats.drains).toBeGreaterThan(before.drains)
    await expectNoLeak()
  })

  // TODO(fix): flaky on Bun 1.4.5 (failed 1 of 5 full runs): a request that arrives with the
  // client's last handshake flight can be delivered in the same read, before pause() set in
  // `open` takes effect. roxy does not depend on it (a read past pause() is queued, still
  // bounded); a deterministic version needs a client that waits after the handshake.
  test.skip('should deliver nothing while paused, and the request once resumed (skipped: pause() in open races the first request on Bun 1.4.5)', async () => {
    const paused = startInterceptProxy(new CertCache(new LeafIssuer(ca), { capacity: 4 }), {
      pauseOnOpen: true,
    })
    try {
      const pending = run([
        'curl',
        '-sS',
        '--max-time',
        '10',
        '-x',
        `http://127.0.0.1:${paused.port}`,
        '--cacert',
        ca.certPath,
        'https://paused.test/p',
      ])
      await waitFor(() => paused.secured.length === 1)
      await Bun.sleep(100) // a negative check needs some time: the request is in flight
      expect(paused.stats.requests).toBe(0)
      paused.secured[0].resume()
      expect((await pending).stdout).toBe('hello paused.test /p')
      expect(paused.stats.requests).toBe(1)
    } finally {
      paused.stop()
    }
  })
})

describe('credentials Bun refuses', () => {
  test('should throw from intercept, leave the raw socket to the caller and count no handshake', async () => {
    const interceptor = new TlsInterceptor<object>({
      handlers: { data() {} },
      handshakeTimeoutMs: 1000,
    })
    let thrown: unknown
    const server = Bun.listen({
      hostname: '127.0.0.1',
      port: 0,
      socket: {
        data(raw, chunk) {
          try {
            interceptor.intercept(raw, chunk, { cert: 'not a pem', key: 'not a pem' }, {})
          } catch (err) {
            thrown = err
            raw.terminate()
          }
        },
      },
    })
    try {
      const client = connect(server.port, '127.0.0.1', () => client.write(PARTIAL_CLIENT_HELLO))
      client.on('error', () => {})
      await waitClosed(client)
      expect(String(thrown)).toContain('NO_START_LINE')
      expect(interceptor.handshaking).toBe(0)
    } finally {
      server.stop(true)
    }
  })
})

describe('a client that aborts the intercepted handshake', () => {
  test('should report curl rejecting the CA as cert-rejected, once, and close the socket', async () => {
    const before = proxy.failures.length
    const otherCa = createEphemeralCa({ dir: join(dir.path, 'other') })
    const res = await curl(['--cacert', otherCa.certPath, 'https://untrusting.test/'])
    expect(res.code).toBe(60) // curl: peer certificate cannot be authenticated
    await expectNoLeak()
    expect(proxy.failures.slice(before)).toEqual([
      {
        host: 'untrusting.test',
        kind: 'cert-rejected',
        reason: expect.stringContaining('unknown_ca'),
      },
    ])
  })

  test('should report a Bun client that hangs up without an alert as reset', async () => {
    const before = proxy.failures.length
    const verdict = await new Promise<boolean>((resolve) => {
      let upgraded = false
      Bun.connect({
        hostname: '127.0.0.1',
        port: proxy.port,
        socket: {
          open: (s) => {
            s.write('CONNECT silent.test:443 HTTP/1.1\r\n\r\n')
          },
          data: (s) => {
            if (upgraded) {
              return
            }
            upgraded = true
            s.upgradeTLS({
              tls: { serverName: 'silent.test' },
              socket: { data() {}, handshake: (_t, ok) => resolve(ok) },
            })
          },
        },
      })
    })
    expect(verdict).toBe(false)
    await expectNoLeak()
    expect(proxy.failures.slice(before).map((f) => [f.host, f.kind])).toEqual([
      ['silent.test', 'reset'],
    ])
  })

  test('should report a client offering only RSA key exchange as no-shared-cipher', async () => {
    const before = proxy.failures.length
    const res = await run(
      [
        'openssl',
        's_client',
        '-proxy',
        `127.0.0.1:${proxy.port}`,
        '-connect',
        'oldcipher.test:443',
        '-tls1_2',
        '-cipher',
        'AES128-SHA',
      ],
      { stdin: '' },
    )
    expect(res.code).not.toBe(0)
    await expectNoLeak()
    expect(proxy.failures.slice(before).map((f) => [f.host, f.kind])).toEqual([
      ['oldcipher.test', 'no-shared-cipher'],
    ])
  })

  test('should time out a stalled handshake and close the connection', async () => {
    const before = proxy.failures.length
    const socket = await openTunnel('stall.test')
    socket.write(PARTIAL_CLIENT_HELLO)
    await waitClosed(socket)
    await expectNoLeak()
    expect(proxy.failures.slice(before).map((f) => [f.host, f.kind])).toEqual([
      ['stall.test', 'timeout'],
    ])
  })

  test('should call garbage after a 0x16 byte a protocol error', async () => {
    const before = proxy.failures.length
    const socket = await openTunnel('garbage.test')
    socket.write(Buffer.from('16ffffffff0000', 'hex'))
    await waitClosed(socket)
    await expectNoLeak()
    expect(proxy.failures.slice(before).map((f) => [f.host, f.kind])).toEqual([
      ['garbage.test', 'protocol-error'],
    ])
  })

  test('should report a reset mid-handshake and release the socket', async () => {
    const before = proxy.failures.length
    const socket = await openTunnel('reset.test')
    socket.write(PARTIAL_CLIENT_HELLO)
    await waitFor(() => proxy.interceptor.handshaking === 1)
    socket.resetAndDestroy()
    await expectNoLeak()
    expect(proxy.failures.slice(before).map((f) => [f.host, f.kind])).toEqual([
      ['reset.test', 'reset'],
    ])
  })
})
