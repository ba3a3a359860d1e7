/**
 * Connections from roxy to origin servers.
 *
 * An `Upstream` is one TCP (or TLS) connection to (scheme, host, port). It
 * serves one exchange at a time; between exchanges it may rest in the pool.
 * Socket events are routed to whoever holds it: the active exchange, or the
 * pool while idle (where any data or close means "drop it").
 */
import type { Socket, SocketHandler, TLSOptions } from 'bun'
import { UpstreamError, type RoxyErrorCode } from '../errors.ts'
import { ResponseScan } from './http1/response-scan.ts'
import { WriteQueue } from './write-queue.ts'

/** What an upstream reports to the exchange using it. */
export interface UpstreamListener {
  onUpstreamOpen(): void
  onUpstreamData(data: Buffer): void
  onUpstreamDrain(): void
  onUpstreamClose(err: UpstreamError | undefined): void
}

export interface UpstreamTarget {
  scheme: 'http' | 'https'
  host: string
  port: number
  /** Address to dial; differs from `host` under a `resolve` override. */
  address: string
}

export class Upstream {
  readonly key: string
  socket: Socket<Upstream> | undefined
  readonly out = new WriteQueue()
  /** Reused for every response head read on this connection. */
  readonly scan = new ResponseScan()
  listener: UpstreamListener | undefined
  /** Called when the socket closes while the upstream rests in the pool. */
  onIdleClose: ((up: Upstream) => void) | undefined
  isOpen = false
  isClosed = false
  /** Exchanges served so far; > 0 means this connection was reused. */
  uses = 0
  idleSince = 0

  constructor(key: string) {
    this.key = key
  }

  write(data: Uint8Array): boolean {
    return this.out.write(this.socket, data)
  }

  pause(): void {
    this.socket?.pause()
  }

  resume(): void {
    this.socket?.resume()
  }

  /** Close without a clean end: used when the connection is no longer trustworthy. */
  destroy(): void {
    if (this.isClosed) {
      return
    }
    this.isClosed = true
    this.listener = undefined
    this.out.clear()
    this.socket?.terminate()
  }

  /** Deliver a close or error to the current holder exactly once. */
  closed(err: UpstreamError | undefined): void {
    const wasClosed = this.isClosed
    this.isClosed = true
    const listener = this.listener
    this.listener = undefined
    if (listener) {
      listener.onUpstreamClose(err)
    } else if (!wasClosed) {
      this.onIdleClose?.(this)
    }
  }
}

const handlers: SocketHandler<Upstream> = {
  open(socket) {
    const up = socket.data
    if (up.isClosed) {
      // Its exchange ended (client gone, timeout) while the connect was under way.
      socket.terminate()
      return
    }
    up.socket = socket
    up.isOpen = true
    socket.setNoDelay(true)
    up.out.flush(socket)
    up.listener?.onUpstreamOpen()
  },
  data(socket, data) {
    const up = socket.data
    if (up.listener) {
      up.listener.onUpstreamData(data)
    } else {
      // Bytes on an idle connection: the origin is confused; never reuse it.
      up.destroy()
      up.onIdleClose?.(up)
    }
  },
  drain(socket) {
    const up = socket.data
    if (up.out.flush(socket)) {
      up.listener?.onUpstreamDrain()
    }
  },
  handshake(socket, success, authError) {
    if (!success || authError) {
      const reason = authError?.message ?? 'TLS handshake failed'
      socket.data.closed(new UpstreamError('ROXY_E_UPSTREAM_TLS', reason, { cause: authError }))
      socket.terminate()
    }
  },
  error(socket, err) {
    socket.data.closed(classifySocketError(err))
  },
  connectError(socket, err) {
    socket.data.closed(classifySocketError(err))
  },
  end(socket) {
    socket.data.closed(undefined)
    socket.end()
  },
  close(socket, err) {
    socket.data.closed(err ? classifySocketError(err) : undefined)
  },
}

/** Start connecting; events reach `up.listener` from `open` on. */
export function dialUpstream(
  up: Upstream,
  target: UpstreamTarget,
  tls: (serverName: string) => TLSOptions,
): void {
  const options = {
    hostname: target.address,
    port: target.port,
    data: up,
    socket: handlers,
    tls: target.scheme === 'https' ? tls(target.host) : undefined,
  }
  Bun.connect(options).catch((err: unknown) => {
    // connectError already delivered the failure; this only keeps the
    // rejected promise from surfacing as unhandled.
    if (!up.isClosed) {
      up.closed(classifySocketError(err))
    }
  })
}

const CODES: Record<string, RoxyErrorCode> = {
  ENOTFOUND: 'ROXY_E_UPSTREAM_DNS',
  EAI_AGAIN: 'ROXY_E_UPSTREAM_DNS',
  EAI_NONAME: 'ROXY_E_UPSTREAM_DNS',
  DNSException: 'ROXY_E_UPSTREAM_DNS',
  ECONNREFUSED: 'ROXY_E_UPSTREAM_REFUSED',
  ECONNRESET: 'ROXY_E_UPSTREAM_RESET',
  EPIPE: 'ROXY_E_UPSTREAM_RESET',
  ETIMEDOUT: 'ROXY_E_UPSTREAM_TIMEOUT',
}

/** Turn a socket error into an `UpstreamError` whose code says what failed. */
export function classifySocketError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) {
    return err
  }
  const sysCode = String((err as { code?: unknown })?.code ?? '')
  const message = err instanceof Error ? err.message : String(err)
  let code: RoxyErrorCode = CODES[sysCode] ?? 'ROXY_E_UPSTREAM_RESET'
  if (/certificate|self[- ]signed|CERT_|TLS|SSL|handshake/i.test(`${sysCode} ${message}`)) {
    code = 'ROXY_E_UPSTREAM_TLS'
  }
  return new UpstreamError(code, sysCode ? `${message} (${sysCode})` : message, { cause: err })
}
