/**
 * HTTPS interception end to end (SPEC §4): real TLS origins on loopback,
 * roxy with an ephemeral CA, curl and Bun's fetch as clients.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import { join } from 'node:path'
import { httpsUpstream, makeTestPki } from '../support/certs.ts'
import { curl, rawClient } from '../support/net.ts'
import { type RoxyProcess, startRoxy, tempDir } from '../support/roxy.ts'

const MIB = 1024 * 1024
const trusted = makeTestPki('trusted origin CA')
const untrusted = makeTestPki('untrusted origin CA')

const origin = httpsUpstream(trusted, async (req) => {
  const url = new URL(req.url)
  if (url.pathname === '/big') {
    return new Response(new Uint8Array(10 * MIB).fill(97))
  }
  if (url.pathname === '/chunked') {
    const parts = ['one,', 'two,', 'three']
    const stream = new ReadableStream({
      pull(c) {
        const next = parts.shift()
        next === undefined ? c.close() : c.enqueue(new TextEncoder().encode(next))
      },
    })
    return new Response(stream)
  }
  const body = req.body ? await req.text() : ''
  return new Response(`tls ${req.method} ${url.pathname} ${req.headers.get('host')} ${body}`)
})
const stranger = httpsUpstream(untrusted, () => new Response('stranger'))
const origin6 = (() => {
  const server = Bun.serve({
    hostname: '::1',
    port: 0,
    tls: { cert: trusted.serverCert, key: trusted.serverKey },
    fetch: () => new Response('over ipv6'),
  })
  return { port: server.port as number, stop: () => server.stop(true) }
})()

let roxy: RoxyProcess
let caPath: string

beforeAll(async () => {
  roxy = await startRoxy(`
listen: "127.0.0.1:0"
upstream_ca: ${trusted.caCertPath}
resolve:
  "*.test": 127.0.0.1
state: { path: ":memory:" }
`)
  const ca = await curl([`${roxy.url}/ca.pem`])
  caPath = join(tempDir(), 'roxy-ca.pem')
  writeFileSync(caPath, ca.stdout)
})
afterAll(async () => {
  await roxy.stop('SIGKILL')
  origin.stop()
  stranger.stop()
  origin6.stop()
})

const via = (host: string, port: number, path: string) => `https://${host}:${port}${path}`

describe('given roxy intercepting HTTPS with an ephemeral CA', () => {
  test('should serve its CA at /ca.pem', () => {
    expect(caPath).toBeTruthy()
    expect(Bun.file(caPath).size).toBeGreaterThan(100)
  })

  test('should carry curl to an HTTPS origin, keeping one tunnel alive for two requests', async () => {
    const res = await curl([
      '-v',
      '-x',
      roxy.url,
      '--cacert',
      caPath,
      via('origin.test', origin.port, '/one'),
      via('origin.test', origin.port, '/two'),
    ])
    expect(res.stdout).toBe(
      `tls GET /one origin.test:${origin.port} tls GET /two origin.test:${origin.port} `,
    )
    expect(res.stderr).toMatch(/issuer: .*roxy/)
    expect(res.stderr).toMatch(/Re-using existing (https: )?connection|Reusing existing/i)
    const line = await roxy.waitForLog((l) => l.path === '/two')
    expect([line.host, line.status, line.action]).toEqual(['origin.test', 200, 'forward'])
  })

  test('should relay a chunked response and a POST body inside the tunnel', async () => {
    const chunked = await curl([
      '-x',
      roxy.url,
      '--cacert',
      caPath,
      via('origin.test', origin.port, '/chunked'),
    ])
    expect(chunked.stdout).toBe('one,two,three')
    const post = await curl([
      '-x',
      roxy.url,
      '--cacert',
      caPath,
      '-d',
      'payload',
      via('origin.test', origin.port, '/post'),
    ])
    expect(post.stdout).toBe(`tls POST /post origin.test:${origin.port} payload`)
  })

  test('should stream a 10 MiB body through the tunnel', async () => {
    const res = await curl([
      '-x',
      roxy.url,
      '--cacert',
      caPath,
      '-o',
      '/dev/null',
      '-w',
      '%{size_download}',
      via('origin.test', origin.port, '/big'),
    ])
    expect(res.stdout).toBe(String(10 * MIB))
  })

  test('should work for Bun fetch with a proxy', async () => {
    const res = await fetch(via('origin.test', origin.port, '/fetch'), {
      proxy: roxy.url,
      tls: { ca: await Bun.file(caPath).text() },
    })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(`tls GET /fetch origin.test:${origin.port} `)
  })

  test.each([
    ['127.0.0.1', () => origin.port, 'IP Address:127.0.0.1'],
    ['[::1]', () => origin6.port, 'IP Address:0:0:0:0:0:0:0:1'],
  ])('should present a leaf with an IP SAN for CONNECT to %s', async (host, port, san) => {
    const res = await curl([
      '-v',
      '-x',
      roxy.url,
      '--cacert',
      caPath,
      `https://${host}:${port()}/ip`,
    ])
    expect(res.code).toBe(0)
    expect(res.stderr).toMatch(/subjectAltName: host .* matched cert's IP address/)
    const pem = await curl([
      '-x',
      roxy.url,
      '--cacert',
      caPath,
      '-w',
      '%{certs}',
      '-o',
      '/dev/null',
      `https://${host}:${port()}/ip`,
    ])
    const text = Bun.spawnSync(['openssl', 'x509', '-noout', '-ext', 'subjectAltName'], {
      stdin: Buffer.from(pem.stdout),
    }).stdout.toString()
    expect(text.replace(/\s+/g, ' ')).toContain(san)
  })

  test('should forward an absolute-form https:// request over TLS to the origin', async () => {
    using client = await rawClient(roxy.port)
    client.send(`GET https://origin.test:${origin.port}/absolute HTTP/1.1\r\nHost: x\r\n\r\n`)
    const text = await client.read((t) => t.includes('/absolute'))
    expect(text).toStartWith('HTTP/1.1 200 ')
    expect(text).toContain(`tls GET /absolute origin.test:${origin.port}`)
  })

  test('should answer 502 for an origin with an untrusted certificate, logging why', async () => {
    const res = await curl([
      '-x',
      roxy.url,
      '--cacert',
      caPath,
      '-i',
      via('bad.test', stranger.port, '/x'),
    ])
    expect(res.stdout).toContain('\r\n\r\nHTTP/1.1 502 Bad Gateway\r\n')
    const line = await roxy.waitForLog((l) => l.host === 'bad.test')
    expect(String(line.error)).toMatch(/certificate/i)
  })

  test('should keep serving others after a client rejects the CA', async () => {
    const rejected = await curl([via('origin.test', origin.port, '/rejected'), '-x', roxy.url])
    expect(rejected.code).toBe(60)
    await roxy.waitForLog((l) => l.target === 'tls' && l.msg === 'client handshake failed')
    const ok = await curl([
      '-x',
      roxy.url,
      '--cacert',
      caPath,
      via('origin.test', origin.port, '/after'),
    ])
    expect(ok.stdout).toContain('/after')
  })

  test('should close a tunnel whose first bytes are garbage after the rules allow it', async () => {
    using client = await rawClient(roxy.port)
    client.send(`CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n`)
    await client.read((t) => t.includes('\r\n\r\n'))
    expect(client.text).toStartWith('HTTP/1.1 200 ')
    client.send('not tls at all')
    expect(await client.waitClosed()).toBe(true)
  })
})

describe('given a new host behind an intercepted tunnel', () => {
  test('should connect to the origin during the handshake and use that connection', async () => {
    const opened: number[] = []
    const listener = Bun.listen<{ buf: string }>({
      hostname: '127.0.0.1',
      port: 0,
      tls: { cert: trusted.serverCert, key: trusted.serverKey },
      socket: {
        open(socket) {
          opened.push(Date.now())
          socket.data = { buf: '' }
        },
        data(socket, data) {
          socket.data.buf += data.toString('latin1')
          if (socket.data.buf.includes('\r\n\r\n')) {
            socket.data.buf = ''
            socket.write('HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\ncounted')
          }
        },
      },
    })
    try {
      // CONNECT, handshake, then a pause before the request: a proxy that dials
      // only when the request arrives opens the origin connection after it.
      const raw = net.connect(roxy.port, '127.0.0.1')
      await once(raw, 'connect')
      raw.write(`CONNECT origin.test:${listener.port} HTTP/1.1\r\n\r\n`)
      await once(raw, 'data')
      const secure = tls.connect({
        socket: raw,
        servername: 'origin.test',
        ca: readFileSync(caPath),
      })
      await once(secure, 'secureConnect')
      await Bun.sleep(300)
      const sentAt = Date.now()
      secure.write('GET /count HTTP/1.1\r\nHost: origin.test\r\n\r\n')
      const [reply] = await once(secure, 'data')
      secure.destroy()
      expect(String(reply)).toEndWith('counted')
      expect(opened.length).toBe(1)
      expect(opened[0]).toBeLessThan(sentAt)
    } finally {
      listener.stop(true)
    }
  })

  test('should still answer 502 when the prewarmed origin connection fails', async () => {
    const closed = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    const port = closed.port
    closed.stop(true)
    const res = await curl([
      '-x',
      roxy.url,
      '--cacert',
      caPath,
      '-i',
      `https://origin.test:${port}/gone`,
    ])
    expect(res.stdout).toContain('\r\n\r\nHTTP/1.1 502 Bad Gateway\r\n')
  })
})

describe('given the same origin named in upstream_ca or not', () => {
  test('should answer 200 once upstream_ca names the CA that signed the origin', async () => {
    const dir = tempDir()
    const without = await startRoxy('listen: "127.0.0.1:0"\nstate: { path: ":memory:" }\n', { dir })
    try {
      const ca = join(dir, 'ca.pem')
      writeFileSync(ca, (await curl([`${without.url}/ca.pem`])).stdout)
      const res = await curl([
        '-x',
        without.url,
        '--cacert',
        ca,
        '-i',
        `https://localhost:${stranger.port}/`,
      ])
      expect(res.stdout).toContain('\r\n\r\nHTTP/1.1 502 Bad Gateway\r\n')
    } finally {
      await without.stop('SIGKILL')
    }
    const withCa = await startRoxy(
      `listen: "127.0.0.1:0"\nstate: { path: ":memory:" }\nupstream_ca: ${untrusted.caCertPath}\n`,
    )
    try {
      const ca = join(dir, 'ca2.pem')
      writeFileSync(ca, (await curl([`${withCa.url}/ca.pem`])).stdout)
      const res = await curl([
        '-x',
        withCa.url,
        '--cacert',
        ca,
        `https://localhost:${stranger.port}/`,
      ])
      expect(res.stdout).toBe('stranger')
    } finally {
      await withCa.stop('SIGKILL')
    }
  })
})
