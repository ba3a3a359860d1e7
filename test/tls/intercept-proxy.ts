/**
 * A minimal CONNECT proxy for tests and benchmarks of TLS interception: it answers every
 * CONNECT with 200, intercepts tunnels that start with a ClientHello, and answers every
 * request inside with a fixed response naming the tunnel host and the request path.
 * It shows the calls the real proxy makes (src/proxy): the order, the buffering of bytes
 * that arrive while a leaf is minted, and what to ignore from the raw half.
 */
import type { Socket, TCPSocketListener } from 'bun'
import type { CertCache } from '../../src/tls/cert-cache.ts'
import type { ClientTlsFailure } from '../../src/tls/classify-tls-error.ts'
import { TlsInterceptor, isTlsClientHello } from '../../src/tls/intercept.ts'
import type { InterceptCredentials } from '../../src/tls/intercept.ts'

interface RawConn {
  stage: 'connect' | 'first-bytes' | 'minting' | 'intercepted' | 'closed'
  host: string
  pending: Buffer[]
  tls?: Socket<InnerConn>
}

interface InnerConn {
  host: string
  buffered: string
}

export interface InterceptProxy {
  port: number
  interceptor: TlsInterceptor<InnerConn>
  failures: Array<{ host: string } & ClientTlsFailure>
  /** `openRaw` is a gauge; `intercepts - tlsCloses` is the count of live TLS sockets. */
  stats: {
    connects: number
    requests: number
    openRaw: number
    intercepts: number
    secured: number
    tlsCloses: number
  }
  stop(): void
}

const MAX_PENDING_BYTES = 64 * 1024

export interface InterceptProxyOptions {
  /** @default 5000 */
  handshakeTimeoutMs?: number
}

export function startInterceptProxy(
  cache: CertCache,
  options: InterceptProxyOptions = {},
): InterceptProxy {
  const stats = { connects: 0, requests: 0, openRaw: 0, intercepts: 0, secured: 0, tlsCloses: 0 }
  const failures: InterceptProxy['failures'] = []
  const interceptor = new TlsInterceptor<InnerConn>({
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5000,
    handlers: {
      open() {
        stats.secured++
      },
      data(tls, chunk) {
        answerRequests(tls, chunk, stats)
      },
      close() {
        stats.tlsCloses++
      },
    },
    onHandshakeFailure(tls, failure) {
      failures.push({ host: tls.data.host, ...failure })
    },
  })
  const server: TCPSocketListener<RawConn> = Bun.listen<RawConn>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(raw) {
        stats.openRaw++
        raw.data = { stage: 'connect', host: '', pending: [] }
      },
      data(raw, chunk) {
        onRawData(raw, chunk)
      },
      close(raw) {
        // After interception the raw half closes too: count it once.
        if (raw.data.stage !== 'closed') {
          raw.data.stage = 'closed'
          stats.openRaw--
        }
      },
    },
  })

  function onRawData(raw: Socket<RawConn>, chunk: Buffer): void {
    const conn = raw.data
    switch (conn.stage) {
      case 'connect':
        return readConnect(raw, conn, chunk)
      case 'first-bytes':
        return startTunnel(raw, conn, chunk)
      case 'minting':
        conn.pending.push(chunk)
        return
      case 'intercepted':
        // The raw tap: ciphertext of the intercepted tunnel, only useful for alerts.
        if (conn.tls) {
          interceptor.noteCiphertext(conn.tls, chunk)
        }
        return
      case 'closed':
        return
    }
  }

  function readConnect(raw: Socket<RawConn>, conn: RawConn, chunk: Buffer): void {
    const head = chunk.toString('latin1')
    // openssl s_client writes `CONNECT ::1:443`, without the brackets RFC 9110 §7.2 asks for.
    const match = /^CONNECT (\S+):\d+ HTTP\/1\.[01]\r\n/.exec(head)
    if (!match || !head.includes('\r\n\r\n')) {
      raw.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n')
      return
    }
    stats.connects++
    conn.host = match[1].replace(/^\[|\]$/g, '').toLowerCase()
    conn.stage = 'first-bytes'
    raw.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    const rest = chunk.subarray(head.indexOf('\r\n\r\n') + 4)
    if (rest.length > 0) {
      startTunnel(raw, conn, rest)
    }
  }

  function startTunnel(raw: Socket<RawConn>, conn: RawConn, chunk: Buffer): void {
    if (!isTlsClientHello(chunk)) {
      raw.end()
      return
    }
    const cached = cache.getCached(conn.host)
    if (cached) {
      intercept(raw, conn, chunk, cached)
      return
    }
    conn.stage = 'minting'
    conn.pending.push(chunk)
    cache.issue(conn.host).then(
      (credentials) => {
        if (conn.stage !== 'minting') {
          return // closed meanwhile
        }
        const bytes = Buffer.concat(conn.pending)
        conn.pending = []
        if (bytes.length > MAX_PENDING_BYTES) {
          raw.terminate()
          return
        }
        intercept(raw, conn, bytes, credentials)
      },
      () => raw.terminate(),
    )
  }

  function intercept(
    raw: Socket<RawConn>,
    conn: RawConn,
    bytes: Uint8Array,
    credentials: InterceptCredentials,
  ): void {
    conn.stage = 'intercepted'
    stats.intercepts++
    conn.tls = interceptor.intercept(raw as Socket<unknown>, bytes, credentials, {
      host: conn.host,
      buffered: '',
    })
  }

  return {
    port: server.port,
    interceptor,
    failures,
    stats,
    stop: () => server.stop(true),
  }
}

/** Answer each complete request head with `hello <host> <path>`; requests have no body. */
function answerRequests(
  tls: Socket<InnerConn>,
  chunk: Buffer,
  stats: InterceptProxy['stats'],
): void {
  const conn = tls.data
  conn.buffered += chunk.toString('latin1')
  let end = conn.buffered.indexOf('\r\n\r\n')
  while (end >= 0) {
    const head = conn.buffered.slice(0, end)
    conn.buffered = conn.buffered.slice(end + 4)
    const path = head.split(' ')[1] ?? '/'
    const body = `hello ${conn.host} ${path}`
    stats.requests++
    tls.write(
      `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    )
    end = conn.buffered.indexOf('\r\n\r\n')
  }
}
