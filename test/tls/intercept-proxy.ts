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
  /** Body bytes of a `/big/N` response still to write. */
  bodyLeft: number
}

export interface InterceptProxy {
  port: number
  interceptor: TlsInterceptor<InnerConn>
  failures: Array<{ host: string } & ClientTlsFailure>
  /** Every plaintext socket whose handshake succeeded, in order. */
  secured: Array<Socket<InnerConn>>
  /** `openRaw` is a gauge; `intercepts - tlsCloses` is the count of live TLS sockets. */
  stats: {
    connects: number
    requests: number
    openRaw: number
    intercepts: number
    secured: number
    tlsCloses: number
    /** `write` calls that took fewer bytes than offered, and `drain` events after them. */
    partialWrites: number
    drains: number
  }
  stop(): void
}

const MAX_PENDING_BYTES = 64 * 1024

export interface InterceptProxyOptions {
  /** @default 5000 */
  handshakeTimeoutMs?: number
  /** Pause each TLS socket as soon as it is secured; the test resumes it via `secured`. */
  pauseOnOpen?: boolean
}

export function startInterceptProxy(
  cache: CertCache,
  options: InterceptProxyOptions = {},
): InterceptProxy {
  const stats = {
    connects: 0,
    requests: 0,
    openRaw: 0,
    intercepts: 0,
    secured: 0,
    tlsCloses: 0,
    partialWrites: 0,
    drains: 0,
  }
  const secured: Array<Socket<InnerConn>> = []
  const failures: InterceptProxy['failures'] = []
  const interceptor = new TlsInterceptor<InnerConn>({
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5000,
    handlers: {
      open(tls) {
        stats.secured++
        secured.push(tls)
        if (options.pauseOnOpen) {
          tls.pause()
        }
      },
      data(tls, chunk) {
        answerRequests(tls, chunk, stats)
      },
      drain(tls) {
        stats.drains++
        writeBody(tls, stats)
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
    conn.tls = interceptor.intercept(raw, bytes, credentials, {
      host: conn.host,
      buffered: '',
      bodyLeft: 0,
    })
  }

  return {
    port: server.port,
    interceptor,
    failures,
    secured,
    stats,
    stop: () => server.stop(true),
  }
}

const BODY_CHUNK = Buffer.alloc(64 * 1024, 'x')

/**
 * Answer each complete request head (requests have no body): `/big/N` with N bytes
 * written under backpressure, anything else with `hello <host> <path>`.
 */
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
    const size = /^\/big\/(\d+)$/.exec(path)?.[1]
    const body = size ? '' : `hello ${conn.host} ${path}`
    const length = size ? Number(size) : body.length
    stats.requests++
    tls.write(
      `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${length}\r\n\r\n${body}`,
    )
    conn.bodyLeft = size ? length : 0
    writeBody(tls, stats)
    end = conn.buffered.indexOf('\r\n\r\n')
  }
}

/** Write body chunks until the socket takes less than offered; `drain` calls again. */
function writeBody(tls: Socket<InnerConn>, stats: InterceptProxy['stats']): void {
  const conn = tls.data
  while (conn.bodyLeft > 0) {
    const offered = Math.min(BODY_CHUNK.length, conn.bodyLeft)
    const written = tls.write(BODY_CHUNK, 0, offered)
    conn.bodyLeft -= Math.max(written, 0)
    if (written < offered) {
      stats.partialWrites++
      return
    }
  }
}
