/**
 * Everything a connection needs from the server that owns it. Built once at
 * start-up; `policy` is swapped by hot reload (one reference, SPEC §7).
 */
import type { ClientTransport } from './client-connection.ts'
import type { ExchangeClient } from './exchange.ts'
import type { RequestPolicy } from './policy.ts'
import type { Target } from './target.ts'
import type { UpstreamPool } from './upstream-pool.ts'
import type { TLSOptions } from 'bun'

export interface ProxyTimeouts {
  /** Whole request head must arrive within this; 0 = off. */
  headerReadMs: number
  /** After a CONNECT is answered, the first client byte must arrive within this. */
  connectInitialReadMs: number
  /** Dialling an origin (TCP + TLS). */
  upstreamConnectMs: number
  /** Silence from the origin while a response is awaited or streamed. */
  upstreamIdleMs: number
  /** Age after which a client connection takes no new request; 0 = off. */
  maxConnectionAgeMs: number
  /** Then this long before it is cut. */
  maxConnectionAgeGraceMs: number
  /** In-flight requests may finish for this long after SIGTERM. */
  shutdownGraceMs: number
}

export interface ProxyStats {
  openConnections: number
  inFlight: number
  requests: number
}

/** Receives every finished request and tunnel (metrics). */
export interface RequestObserver {
  observe(rule: string, action: string, durationMs: number): void
}

export interface ProxyContext {
  timeouts: ProxyTimeouts
  observer: RequestObserver | undefined
  pool: UpstreamPool
  policy: RequestPolicy
  stats: ProxyStats
  /** TLS options for dialling `serverName` (SNI, trust, verification). */
  upstreamTls: (serverName: string) => TLSOptions
  /** Address to dial for `host` (a `resolve` override or the host itself). */
  resolveAddress(host: string): string
  /** True when host:port is this proxy's own listener (a loop). */
  isSelf(host: string, port: number): boolean
  /** Answer an origin-form request to the proxy itself; undefined = not ours (400). */
  localRoute(path: string): LocalResponse | undefined
  /** Terminates TLS inside CONNECT tunnels; absent when interception is off. */
  interceptor: Interceptor | undefined
  /** True for hosts listed in `mitm.bypass`: tunnelled without interception. */
  isBypassed(host: string): boolean
  /**
   * Open a connection to the origin of an intercepted tunnel ahead of its
   * first request, while the client's TLS handshake runs, unless the pool
   * already holds one.
   */
  prewarm(target: Target): void
  /** Stop accepting new requests on kept-alive connections (shutdown). */
  draining: boolean
}

export interface LocalResponse {
  status: number
  contentType: string
  body: string
}

/**
 * TLS interception: takes over a client connection whose first tunnel bytes
 * (`first`, starting with a ClientHello) have just arrived. Returns where
 * further raw bytes go (kept while a certificate is minted, then ignored).
 */
export interface Interceptor {
  intercept(
    socket: ClientTransport,
    first: Buffer,
    target: Target,
    ip: string,
    owner: ExchangeClient,
  ): (more: Buffer) => void
}
