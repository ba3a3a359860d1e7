/**
 * TLS interception inside CONNECT tunnels (SPEC §4), glued to the HTTP/1
 * connection machinery:
 *
 *   raw socket ── CONNECT, 200 ──▶ first bytes 0x16 ──▶ leaf for host (cache or mint)
 *        │                                                   │
 *        │  bytes arriving while minting are kept            ▼
 *        └──────────────────────────────────────▶ upgradeTLS(server, replay bytes)
 *                                                            │
 *                          inner ClientConnection ◀── plaintext HTTP/1.1 requests
 *
 * Inner requests come in origin-form; their authority is the CONNECT's, and
 * they go through the same rules, limits and forwarding as plain requests.
 * After the upgrade the raw half keeps reporting ciphertext to the listener
 * (Bun behaviour, see src/tls/intercept.ts): the outer connection ignores it.
 */
import type { Socket } from 'bun'
import { log } from '../observe/log.ts'
import type { CertCache } from '../tls/cert-cache.ts'
import { TlsInterceptor } from '../tls/intercept.ts'
import type { ClientTransport } from './client-connection.ts'
import { ClientConnection } from './client-connection.ts'
import type { Interceptor, ProxyContext } from './context.ts'
import type { ExchangeClient } from './exchange.ts'
import type { Target } from './target.ts'

/** A ClientHello bigger than this while a leaf is minted is not a ClientHello. */
const MAX_PENDING_BYTES = 64 * 1024

/** What the outer (raw) connection hands over for one intercepted tunnel. */
interface Pending {
  chunks: Buffer[]
  bytes: number
  cancelled: boolean
}

export class MitmInterceptor implements Interceptor {
  #certs: CertCache
  #tls: TlsInterceptor<ClientConnection>
  #ctx: () => ProxyContext

  constructor(certs: CertCache, handshakeTimeoutMs: number, ctx: () => ProxyContext) {
    this.#certs = certs
    this.#ctx = ctx
    this.#tls = new TlsInterceptor<ClientConnection>({
      handshakeTimeoutMs,
      handlers: {
        open(tls) {
          tls.data.onSecure(tls)
        },
        data(tls, data) {
          tls.data.onData(data)
        },
        drain(tls) {
          tls.data.onDrain()
        },
        close(tls) {
          tls.data.onClose()
        },
      },
      onHandshakeFailure(tls, failure) {
        // Usually a client that does not trust roxy's CA: expected, so debug only.
        const level = failure.kind === 'unknown' ? 'warn' : 'debug'
        log.log(level, 'tls', 'client handshake failed', {
          host: tls.data.connectHost,
          client: tls.data.ip,
          kind: failure.kind,
          reason: failure.reason,
        })
      },
    })
  }

  intercept(
    socket: ClientTransport,
    first: Buffer,
    target: Target,
    ip: string,
    owner: ExchangeClient,
  ): (more: Buffer) => void {
    this.#ctx().prewarm(target)
    const cached = this.#certs.getCached(target.host)
    if (cached) {
      this.#upgrade(socket, first, target, ip, cached)
      return IGNORE
    }
    const pending: Pending = { chunks: [first], bytes: first.length, cancelled: false }
    this.#certs.issue(target.host).then(
      (credentials) => {
        if (!pending.cancelled) {
          pending.cancelled = true
          this.#upgrade(socket, Buffer.concat(pending.chunks), target, ip, credentials)
        }
      },
      (err: unknown) => {
        log.error('tls', 'could not issue a certificate', { host: target.host, error: err })
        pending.cancelled = true
        owner.abort()
      },
    )
    return (more) => {
      if (pending.cancelled) {
        return
      }
      pending.chunks.push(more)
      pending.bytes += more.length
      if (pending.bytes > MAX_PENDING_BYTES) {
        pending.cancelled = true
        owner.abort()
      }
    }
  }

  #upgrade(
    socket: ClientTransport,
    bytes: Buffer,
    target: Target,
    ip: string,
    credentials: { cert: string; key: string },
  ): void {
    const inner = new ClientConnection(this.#ctx(), undefined, ip, target)
    try {
      const tls = this.#tls.intercept(socket as Socket<unknown>, bytes, credentials, inner)
      inner.attach(tls)
    } catch (err) {
      log.error('tls', 'could not start TLS with the client', { host: target.host, error: err })
      inner.onClose()
      socket.terminate()
    }
  }
}

const IGNORE = (): void => {}
