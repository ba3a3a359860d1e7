/** Table-driven tests of the HTTP/1 codec pieces (RFC 9112). */
import { describe, expect, test } from 'bun:test'
import { ChunkedDecoder, ChunkedError } from '../../src/proxy/http1/chunked.ts'
import { readFraming } from '../../src/proxy/http1/framing.ts'
import { parseRequestHead } from '../../src/proxy/http1/head.ts'
import { copyRequestHead } from '../../src/proxy/http1/request-copy.ts'
import { ResponseScan, copyResponseHead } from '../../src/proxy/http1/response-scan.ts'
import { parseAbsoluteTarget, parseConnectTarget } from '../../src/proxy/target.ts'
import { RoxyError } from '../../src/errors.ts'

const bytes = (s: string) => Buffer.from(s, 'latin1')

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof RoxyError ? err.code : (err as Error).name
  }
  return undefined
}

describe('parseRequestHead', () => {
  test('should parse a request line and keep header case and order', () => {
    const head = parseRequestHead(
      bytes('GET http://a/ HTTP/1.1\r\nX-One: 1\r\nx-two:  2 \r\nX-One: 3\r\n\r\nBODY'),
    )!
    expect(head.method).toBe('GET')
    expect(head.target).toBe('http://a/')
    expect(head.minor).toBe(1)
    expect(head.headers).toEqual(['X-One', '1', 'x-two', '2', 'X-One', '3'])
    expect(head.length).toBe(
      head.length > 0
        ? 'GET http://a/ HTTP/1.1\r\nX-One: 1\r\nx-two:  2 \r\nX-One: 3\r\n\r\n'.length
        : 0,
    )
  })

  test.each([
    ['GET http://a/ HTTP/1.1\r\nHost: a\r\n'],
    ['GET http://a/ HTTP/1.1\r\n'],
    ['GET http://a/ HT'],
  ])('should wait for more bytes on %p', (text) => {
    expect(parseRequestHead(bytes(text))).toBeUndefined()
  })

  test.each([
    ['bare LF after the request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 'ROXY_E_BAD_REQUEST'],
    ['bare LF in a field line', 'GET / HTTP/1.1\r\nHost: a\n\r\n', 'ROXY_E_BAD_REQUEST'],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 'ROXY_E_BAD_REQUEST'],
    ['obs-fold', 'GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n', 'ROXY_E_BAD_REQUEST'],
    ['no colon', 'GET / HTTP/1.1\r\nJunk\r\n\r\n', 'ROXY_E_BAD_REQUEST'],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\n\r\n', 'ROXY_E_BAD_REQUEST'],
    ['a space in the target', 'GET /a b HTTP/1.1\r\n\r\n', 'ROXY_E_BAD_REQUEST'],
    ['a bad method', 'G@T / HTTP/1.1\r\n\r\n', 'ROXY_E_BAD_REQUEST'],
    ['NUL in a value', 'GET / HTTP/1.1\r\nA: b\0c\r\n\r\n', 'ROXY_E_BAD_REQUEST'],
    ['a 9 KiB request line', `GET /${'a'.repeat(9000)}`, 'ROXY_E_URI_TOO_LONG'],
    ['a 65 KiB head', `GET / HTTP/1.1\r\n${'X: y\r\n'.repeat(12000)}`, 'ROXY_E_HEADERS_TOO_LARGE'],
  ])('should reject %s', (_name, text, code) => {
    expect(codeOf(() => parseRequestHead(bytes(text)))).toBe(code)
  })
})

describe('ResponseScan', () => {
  function scan(text: string): ResponseScan {
    const s = new ResponseScan()
    expect(s.scan(bytes(text))).toBe(true)
    return s
  }

  test('should read status, version and fields in place', () => {
    const s = scan('HTTP/1.1 404 Not Found\r\nA: 1\r\nContent-Length: 5\r\n\r\nbody!')
    expect([s.status, s.minor, s.count, s.body, s.contentLength]).toEqual([404, 1, 2, 'length', 5])
    expect(s.value(0)).toBe('1')
    expect(s.length).toBe('HTTP/1.1 404 Not Found\r\nA: 1\r\nContent-Length: 5\r\n\r\n'.length)
  })

  test('should accept an empty reason phrase and wait for an incomplete head', () => {
    expect(scan('HTTP/1.0 200\r\n\r\n').status).toBe(200)
    expect(new ResponseScan().scan(bytes('HTTP/1.1 200 OK\r\nA: b\r\n'))).toBe(false)
  })

  test.each([
    ['HTTP/1.1 2000 OK\r\n\r\n'],
    ['ICY 200 OK\r\n\r\n'],
    ['HTTP/1.1 200 OK\r\nA : b\r\n\r\n'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
  ])('should reject %p as an upstream protocol error', (text) => {
    expect(codeOf(() => new ResponseScan().scan(bytes(text)))).toBe('ROXY_E_UPSTREAM_PROTOCOL')
  })

  test('should drop hop-by-hop fields and those named in Connection when copying', () => {
    const s = scan(
      'HTTP/1.0 200 OK\r\nServer: x\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n' +
        'Keep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\nX-End: 2\r\n\r\n',
    )
    expect(s.body).toBe('chunked')
    const out = copyResponseHead(s, false, 'X-Added: 3\r\n', bytes('BODY')).toString('latin1')
    expect(out).toBe('HTTP/1.1 200 OK\r\nServer: x\r\nX-End: 2\r\nX-Added: 3\r\n\r\nBODY')
  })
})

describe('readFraming', () => {
  test.each([
    [['Content-Length', '5'], 'length', 5],
    [['Content-Length', '5', 'content-length', '5'], 'length', 5],
    [['Content-Length', '5, 5'], 'length', 5],
    [['Transfer-Encoding', 'gzip, chunked'], 'chunked', 0],
    [['Content-Length', '0'], 'none', 0],
    [[], 'none', 0],
  ])('should read request framing %p as %s', (headers, body, length) => {
    const f = readFraming(headers, true)
    expect([f.body as string, f.length]).toEqual([body, length])
  })

  test.each([
    [['Content-Length', '5', 'Transfer-Encoding', 'chunked']],
    [['Content-Length', '5', 'Content-Length', '6']],
    [['Content-Length', '5, 6']],
    [['Content-Length', '-1']],
    [['Content-Length', '1e3']],
    [['Transfer-Encoding', 'chunked, gzip']],
  ])('should reject request framing %p', (headers) => {
    expect(codeOf(() => readFraming(headers, true))).toBe('ROXY_E_BAD_REQUEST')
  })

  test('should read a response without length until close', () => {
    expect(readFraming([], false).body).toBe('close')
  })

  test('should collect Connection tokens as hop-by-hop', () => {
    const f = readFraming(['Connection', 'close, X-Foo', 'Host', 'a', 'Host', 'b'], true)
    expect(f.close).toBe(true)
    expect(f.connectionTokens).toEqual(['close', 'x-foo'])
    expect(f.hosts).toBe(2)
  })
})

describe('ChunkedDecoder', () => {
  function decode(text: string, split = 0): { data: string; end: number; done: boolean } {
    const dec = new ChunkedDecoder()
    const out: Uint8Array[] = []
    const buf = bytes(text)
    let end = 0
    if (split > 0) {
      for (let i = 0; i < buf.length && !dec.done; i += split) {
        const piece = buf.subarray(i, Math.min(buf.length, i + split))
        end = i + dec.feed(piece, 0, out)
      }
    } else {
      end = dec.feed(buf, 0, out)
    }
    return { data: Buffer.concat(out).toString('latin1'), end, done: dec.done }
  }

  test.each([0, 1, 2, 3, 7])('should decode a body fed in pieces of %d bytes', (split) => {
    const text = '5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nNEXT'
    const res = decode(text, split)
    expect(res.data).toBe('hello0123456789')
    expect(res.done).toBe(true)
    if (split === 0) {
      expect(text.slice(res.end)).toBe('NEXT')
    }
  })

  test.each([['zz\r\n'], ['5\r\nhelloXX'], ['5\nhello\r\n'], ['\r\n'], ['fffffffffffffff\r\n']])(
    'should reject %p',
    (text) => {
      expect(codeOf(() => decode(text))).toBe('ChunkedError')
      expect(ChunkedError.name).toBe('ChunkedError')
    },
  )
})

describe('request targets', () => {
  test.each([
    ['http://Example.COM/a?b=1', 'example.com', 80, '/a?b=1', '/a'],
    ['http://example.com', 'example.com', 80, '/', '/'],
    ['http://example.com?x', 'example.com', 80, '/?x', '/'],
    ['http://[::1]:8080/p', '::1', 8080, '/p', '/p'],
    ['https://h:444/#frag', 'h', 444, '/', '/'],
  ])('should parse %s', (target, host, port, pathAndQuery, path) => {
    const t = parseAbsoluteTarget(target)
    expect([t.host, t.port, t.pathAndQuery, t.path]).toEqual([host, port, pathAndQuery, path])
  })

  test.each([
    ['ftp://x/'],
    ['http://user@x/'],
    ['http://x:99999/'],
    ['http://x:abc/'],
    ['http:///p'],
  ])('should reject %s', (target) => {
    expect(codeOf(() => parseAbsoluteTarget(target))).toBe('ROXY_E_BAD_REQUEST')
  })

  test('should require a port on CONNECT', () => {
    expect(parseConnectTarget('[::1]:443').host).toBe('::1')
    expect(codeOf(() => parseConnectTarget('example.com'))).toBe('ROXY_E_BAD_REQUEST')
  })
})

describe('copyRequestHead', () => {
  test('should copy kept field lines as bytes between a new start and end', () => {
    const head = parseRequestHead(
      bytes('GET http://a/x HTTP/1.1\r\nHost: a\r\nX-One: 1\r\nConnection: x\r\nX-Two: é\r\n\r\n'),
    )!
    const out = copyRequestHead(head, 'GET /x HTTP/1.1\r\nHost: b\r\n', '\r\n', (name) =>
      ['host', 'connection'].includes(name.toLowerCase()),
    )
    expect(out.toString('latin1')).toBe(
      'GET /x HTTP/1.1\r\nHost: b\r\nX-One: 1\r\nX-Two: é\r\n\r\n',
    )
  })
})
