/**
 * Plain HTTP forwarding through the real proxy (SPEC §3): real upstreams on
 * port 0, roxy as a child process, curl and raw sockets as clients.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type RoxyProcess, startRoxy } from '../support/roxy.ts'
import { curl, httpUpstream, rawClient, rawUpstream, splitResponses } from '../support/net.ts'

let roxy: RoxyProcess
const echo = httpUpstream(async (req) => {
  const url = new URL(req.url)
  const body = req.body ? await req.text() : ''
  if (url.pathname === '/set-cookies') {
    const headers = new Headers()
    headers.append('Set-Cookie', 'a=1; Path=/')
    headers.append('Set-Cookie', 'b=2; Path=/')
    return new Response('cookies', { headers })
  }
  return Response.json({
    method: req.method,
    path: url.pathname + url.search,
    host: req.headers.get('host'),
    body,
  })
})

beforeAll(async () => {
  roxy = await startRoxy(`listen: "127.0.0.1:0"\nupstream_timeouts: { idle_secs: 1 }\n`)
})
afterAll(async () => {
  await roxy.stop('SIGKILL')
  echo.stop()
})

describe('given requests with bodies', () => {
  test.each([
    ['GET', []],
    ['POST', ['--data-binary', 'hello=world']],
    ['PUT', ['--data-binary', 'put body']],
    ['POST', ['-H', 'Transfer-Encoding: chunked', '--data-binary', 'chunked body']],
    ['PUT', ['-H', 'Transfer-Encoding: chunked', '--data-binary', 'chunked put']],
  ] as const)('should forward %s %p and return the upstream answer', async (method, extra) => {
    const res = await curl(['-x', roxy.url, '-X', method, ...extra, `${echo.origin}/p?q=1`])
    expect(res.code).toBe(0)
    const seen = JSON.parse(res.stdout)
    expect(seen.method).toBe(method)
    expect(seen.path).toBe('/p?q=1')
    expect(seen.host).toBe(`127.0.0.1:${echo.port}`)
    const sent = extra.length ? extra[extra.length - 1] : ''
    expect(seen.body).toBe(sent)
  })

  test('should keep two Set-Cookie headers as two', async () => {
    const res = await curl([
      '-x',
      roxy.url,
      '-D',
      '-',
      '-o',
      '/dev/null',
      `${echo.origin}/set-cookies`,
    ])
    const cookies = res.stdout.split('\r\n').filter((l) => /^set-cookie:/i.test(l))
    expect(cookies).toEqual(['set-cookie: a=1; Path=/', 'set-cookie: b=2; Path=/'])
  })
})

describe('given a raw upstream that records what it receives', () => {
  test('should strip Proxy-Authorization, Proxy-Connection and headers named in Connection', async () => {
    using up = rawUpstream((conn) => {
      if (conn.received.includes('\r\n\r\n')) {
        conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
      }
    })
    using client = await rawClient(roxy.port)
    client.send(
      `GET ${up.origin}/h HTTP/1.1\r\nHost: ignored.example\r\nProxy-Authorization: Basic c2VjcmV0\r\n` +
        'Proxy-Connection: keep-alive\r\nConnection: X-Secret, keep-alive\r\nX-Secret: 1\r\n' +
        'Keep-Alive: timeout=5\r\nTE: trailers\r\nX-Kept: yes\r\n\r\n',
    )
    await client.read((t) => t.endsWith('ok'))
    const seen = up.allReceived().toLowerCase()
    expect(seen).toContain('x-kept: yes')
    expect(seen).toContain(`host: 127.0.0.1:${up.port}`)
    for (const name of [
      'proxy-authorization',
      'proxy-connection',
      'x-secret',
      'keep-alive',
      'te:',
      'connection:',
    ]) {
      expect(seen).not.toContain(name)
    }
  })

  test('should reuse one upstream connection for two requests on one client connection', async () => {
    using up = rawUpstream((conn, chunk) => {
      for (const _ of chunk.matchAll(/\r\n\r\n/g)) {
        conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
      }
    })
    using client = await rawClient(roxy.port)
    client.send(`GET ${up.origin}/1 HTTP/1.1\r\nHost: x\r\n\r\n`)
    await client.read((t) => splitResponses(t).length === 1)
    client.send(`GET ${up.origin}/2 HTTP/1.1\r\nHost: x\r\n\r\n`)
    const text = await client.read((t) => splitResponses(t).length === 2)
    expect(splitResponses(text).map((r) => r.status)).toEqual([200, 200])
    expect(up.conns.length).toBe(1)
    expect(up.conns[0].received.match(/GET \/[12] HTTP\/1.1/g)).toEqual([
      'GET /1 HTTP/1.1',
      'GET /2 HTTP/1.1',
    ])
    expect(client.closed).toBe(false)
  })

  test('should answer pipelined requests in order', async () => {
    // The first answer is delayed: a proxy that answered out of order would show /2 first.
    using up = rawUpstream((conn, chunk) => {
      const m = /GET \/(\d)/.exec(chunk)
      if (!m) {
        return
      }
      const reply = `HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n#${m[1]}`
      setTimeout(() => conn.socket.write(reply), m[1] === '1' ? 150 : 0)
    })
    using client = await rawClient(roxy.port)
    client.send([1, 2, 3].map((n) => `GET ${up.origin}/${n} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''))
    const text = await client.read((t) => splitResponses(t).length === 3)
    expect(splitResponses(text).map((r) => r.body)).toEqual(['#1', '#2', '#3'])
  })

  test.each([
    ['HEAD', 200, 'Content-Length: 10\r\n'],
    ['GET', 204, ''],
    ['GET', 304, 'ETag: "x"\r\n'],
  ])(
    'should relay %s answered %d without a body and keep the connection',
    async (method, status, extra) => {
      using up = rawUpstream((conn, chunk) => {
        if (chunk.startsWith('HEAD') || chunk.includes('/nobody')) {
          conn.socket.write(`HTTP/1.1 ${status} X\r\n${extra}\r\n`)
        } else if (chunk.includes('/after')) {
          conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter')
        }
      })
      using client = await rawClient(roxy.port)
      client.send(`${method} ${up.origin}/nobody HTTP/1.1\r\nHost: x\r\n\r\n`)
      await client.read((t) => t.includes('\r\n\r\n'))
      client.send(`GET ${up.origin}/after HTTP/1.1\r\nHost: x\r\n\r\n`)
      const text = await client.read((t) => t.endsWith('after'))
      const firstEnd = text.indexOf('\r\n\r\n') + 4
      expect(text.slice(0, firstEnd)).toStartWith(`HTTP/1.1 ${status} X\r\n`)
      expect(text.slice(firstEnd)).toStartWith('HTTP/1.1 200 OK')
    },
  )

  test('should relay 100 Continue before the body is sent (Expect: 100-continue)', async () => {
    using up = rawUpstream((conn) => {
      const r = conn.received
      if (r.includes('\r\n\r\n') && !r.includes('sent-body') && !conn.socket.data.closed) {
        if (!(conn as { continued?: boolean }).continued) {
          ;(conn as { continued?: boolean }).continued = true
          conn.socket.write('HTTP/1.1 100 Continue\r\n\r\n')
        }
      } else if (r.endsWith('sent-body')) {
        conn.socket.write('HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone')
      }
    })
    using client = await rawClient(roxy.port)
    client.send(
      `POST ${up.origin}/upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n`,
    )
    await client.read((t) => t.includes('100 Continue\r\n\r\n'))
    expect(up.allReceived()).not.toContain('sent-body')
    client.send('sent-body')
    const text = await client.read((t) => t.endsWith('done'))
    expect(text).toMatch(/^HTTP\/1.1 100 Continue\r\n\r\nHTTP\/1.1 201 Created\r\n/)
    expect(up.allReceived().toLowerCase()).toContain('expect: 100-continue')
  })

  test('should tunnel a WebSocket upgrade after the 101, both ways', async () => {
    using up = rawUpstream((conn, chunk) => {
      if (chunk.startsWith('GET ')) {
        conn.socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
        )
      } else {
        conn.socket.write(`echo:${chunk}`)
      }
    })
    using client = await rawClient(roxy.port)
    client.send(
      `GET ${up.origin}/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    )
    await client.read((t) => t.includes('\r\n\r\n'))
    expect(client.text).toStartWith('HTTP/1.1 101 ')
    client.send('frame-bytes')
    await client.read((t) => t.endsWith('echo:frame-bytes'))
    const seen = up.conns[0].received.toLowerCase()
    expect(seen).toContain('connection: upgrade')
    expect(seen).toContain('upgrade: websocket')
  })

  test('should cut the client connection when the upstream dies mid-body', async () => {
    using up = rawUpstream((conn) => {
      conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part')
      setTimeout(() => conn.socket.end(), 50)
    })
    using client = await rawClient(roxy.port)
    client.send(`GET ${up.origin}/trunc HTTP/1.1\r\nHost: x\r\n\r\n`)
    expect(await client.waitClosed()).toBe(true)
    expect(client.text).toContain('Content-Length: 100')
    expect(client.text.endsWith('only-part')).toBe(true)
  })

  test('should cut a chunked response without the last chunk when the upstream dies', async () => {
    using up = rawUpstream((conn) => {
      conn.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n')
      setTimeout(() => conn.socket.terminate(), 50)
    })
    using client = await rawClient(roxy.port)
    client.send(`GET ${up.origin}/trunc HTTP/1.1\r\nHost: x\r\n\r\n`)
    expect(await client.waitClosed()).toBe(true)
    expect(client.text).toContain('5\r\nhello\r\n')
    expect(client.text).not.toContain('0\r\n\r\n')
  })
})

describe('given malformed requests', () => {
  const upstreamHits: string[] = []
  const up = rawUpstream((conn, chunk) => {
    upstreamHits.push(chunk)
    conn.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
  })
  afterAll(() => up.stop())

  test.each([
    [
      'CL and TE together',
      'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n',
      '5\r\nhello\r\n0\r\n\r\n',
      400,
    ],
    ['two differing Content-Lengths', 'Content-Length: 5\r\nContent-Length: 6\r\n', 'hello!', 400],
    ['two Host headers', 'Host: b\r\n', '', 400],
    ['an invalid chunk size', 'Transfer-Encoding: chunked\r\n', 'zz\r\nhello\r\n0\r\n\r\n', 400],
    ['a non-chunked transfer coding', 'Transfer-Encoding: gzip\r\n', '', 400],
    ['whitespace before a colon', 'X-Bad : 1\r\n', '', 400],
    ['an obs-fold line', 'X-Fold: a\r\n  b\r\n', '', 400],
  ])(
    'should answer 400 and close for %s, sending nothing upstream',
    async (_name, headers, body, status) => {
      upstreamHits.length = 0
      using client = await rawClient(roxy.port)
      client.send(`POST ${up.origin}/x HTTP/1.1\r\nHost: a\r\n${headers}\r\n${body}`)
      expect(await client.waitClosed()).toBe(true)
      expect(client.text).toStartWith(`HTTP/1.1 ${status} `)
      await Bun.sleep(50)
      expect(upstreamHits.join('')).not.toContain('hello')
      expect(upstreamHits.join('')).not.toContain('POST')
    },
  )

  test('should answer 400 to a bare LF in the head', async () => {
    using client = await rawClient(roxy.port)
    client.send(`GET ${up.origin}/x HTTP/1.1\nHost: a\n\n`)
    expect(await client.waitClosed()).toBe(true)
    expect(client.text).toStartWith('HTTP/1.1 400 ')
  })

  test('should answer 414 to a request line over 8 KiB', async () => {
    using client = await rawClient(roxy.port)
    client.send(`GET ${up.origin}/${'a'.repeat(9000)} HTTP/1.1\r\nHost: a\r\n\r\n`)
    expect(await client.waitClosed()).toBe(true)
    expect(client.text).toStartWith('HTTP/1.1 414 ')
  })

  test('should answer 431 to a header block over 64 KiB', async () => {
    using client = await rawClient(roxy.port)
    const many = Array.from({ length: 80 }, (_, i) => `X-H${i}: ${'v'.repeat(1000)}\r\n`).join('')
    client.send(`GET ${up.origin}/ HTTP/1.1\r\nHost: a\r\n${many}\r\n`)
    expect(await client.waitClosed()).toBe(true)
    expect(client.text).toStartWith('HTTP/1.1 431 ')
  })

  test('should answer 400 with an explanation to an origin-form request', async () => {
    const res = await curl(['-i', `${roxy.url}/some/page`])
    expect(res.stdout).toStartWith('HTTP/1.1 400 ')
    expect(res.stdout).toContain('this is a proxy')
  })
})

describe('given upstream failures', () => {
  test('should answer 502 when the upstream refuses, and log the cause', async () => {
    const closed = rawUpstream(() => {})
    const port = closed.port
    closed.stop()
    const res = await curl(['-x', roxy.url, '-i', `http://127.0.0.1:${port}/refused`])
    expect(res.stdout).toStartWith('HTTP/1.1 502 ')
    const line = await roxy.waitForLog((l) => l.path === '/refused')
    expect(line.status).toBe(502)
    expect(String(line.error)).toContain('ECONNREFUSED')
  })

  test('should answer 504 when the upstream stays silent past its timeout', async () => {
    using up = rawUpstream(() => {})
    const started = Date.now()
    const res = await curl(['-x', roxy.url, '-i', `${up.origin}/silent`])
    expect(res.stdout).toStartWith('HTTP/1.1 504 ')
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    const line = await roxy.waitForLog((l) => l.path === '/silent')
    expect(String(line.error)).toContain('timed out')
  })

  test('should refuse a request aimed at the proxy itself with 508', async () => {
    const res = await curl(['-x', roxy.url, '-i', `http://127.0.0.1:${roxy.port}/loop`])
    expect(res.stdout).toStartWith('HTTP/1.1 508 ')
  })

  test('should answer /healthz itself', async () => {
    const res = await curl([`${roxy.url}/healthz`])
    expect(res.stdout).toBe('ok\n')
  })
})

describe('given an HTTP/1.0 client', () => {
  test('should close after the response unless keep-alive was asked for', async () => {
    using client = await rawClient(roxy.port)
    client.send(`GET ${echo.origin}/old HTTP/1.0\r\n\r\n`)
    expect(await client.waitClosed()).toBe(true)
    expect(client.text).toStartWith('HTTP/1.1 200 ')
    expect(client.text).toContain('"path":"/old"')
  })

  test('should keep the connection with Connection: keep-alive', async () => {
    using client = await rawClient(roxy.port)
    client.send(`GET ${echo.origin}/ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`)
    const text = await client.read((t) => t.includes('"path":"/ka"'))
    expect(text.toLowerCase()).toContain('connection: keep-alive')
    expect(client.closed).toBe(false)
  })
})
