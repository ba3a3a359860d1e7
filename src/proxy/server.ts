/**
 * The listener: one port for absolute-form requests, CONNECT tunnels and
 * the proxy's own routes (SPEC §3). Owns the shared pieces every connection
 * uses (pool, policy, timeouts) and the graceful shutdown.
 */
import type { Socket, TCPSocketListener } from 'bun'
import { networkInterfaces } from 'node:os'
import { RoxyError } from '../errors.ts'
import { log } from '../observe/log.ts'
import { compileGlob } from '../rules/index.ts'
import { ClientConnection } from './client-connection.ts'
import type {
  Interceptor,
  LocalResponse,
  ProxyContext,
  ProxyStats,
  ProxyTimeouts,
  RequestObserver,
} from './context.ts'
import type { RequestPolicy } from './policy.ts'
import type { Target } from './target.ts'
import { UpstreamPool, type PoolOptions } from './upstream-pool.ts'
import { Upstream, dialUpstream } from './upstream.ts'
import type { TLSOptions } from 'bun'

export interface ProxyServerOptions {
  host: string
  port: number
  timeouts: ProxyTimeouts
  pool: PoolOptions
  upstreamTls: (serverName: string) => TLSOptions
  /** `resolve:` entries in file order: the first matching glob wins. */
  resolve: ReadonlyArray<readonly [glob: string, address: string]>
  /** `mitm.bypass` globs. */
  bypass: readonly string[]
  tcpKeepAlive: { enabled: boolean; initialDelayMs: number }
  policy: RequestPolicy
  /** Made with the server's context (see `contextRef`); absent = CONNECT is never intercepted. */
  interceptor?: (ctx: () => ProxyContext) => Interceptor
  observer?: RequestObserver
  /** Extra origin-form routes (`/ca.pem`, the metrics path), by path. */
  routes?: Record<string, () => LocalResponse>
}

export class ProxyServer {
  readonly stats: ProxyStats = { openConnections: 0, inFlight: 0, requests: 0 }
  #options: ProxyServerOptions
  #listener: TCPSocketListener<ClientConnection> | undefined
  #connections = new Set<ClientConnection>()
  #ctx: ProxyContext
  #localAddresses = new Set<string>()

  constructor(options: ProxyServerOptions) {
    this.#options = options
    this.#ctx = this.#buildContext(options)
    this.#ctx.interceptor = options.interceptor?.(() => this.#ctx)
  }

  get port(): number {
    return this.#listener?.port ?? 0
  }

  get poolSize(): number {
    return this.#ctx.pool.idleCount
  }

  /** Swap the decision policy for new requests (hot reload); in-flight ones keep theirs. */
  setPolicy(policy: RequestPolicy): void {
    this.#ctx.policy = policy
  }

  /** Swap `resolve` and `mitm.bypass` (hot reload) for new connections and requests. */
  setRouting(resolve: ProxyServerOptions['resolve'], bypass: readonly string[]): void {
    this.#ctx.resolveAddress = compileResolver(resolve)
    this.#ctx.isBypassed = compileBypass(bypass)
  }

  start(): void {
    const { host, port, tcpKeepAlive } = this.#options
    const connections = this.#connections
    const ctx = this.#ctx
    try {
      this.#listener = Bun.listen<ClientConnection>({
        hostname: host,
        port,
        socket: {
          open(socket) {
            socket.setNoDelay(true)
            if (tcpKeepAlive.enabled) {
              socket.setKeepAlive(true, tcpKeepAlive.initialDelayMs)
            }
            const conn = new ClientConnection(ctx, socket, socket.remoteAddress)
            socket.data = conn
            connections.add(conn)
          },
          data(socket, data) {
            socket.data.onData(data)
          },
          drain(socket) {
            socket.data.onDrain()
          },
          close(socket) {
            socket.data.onClose()
            connections.delete(socket.data)
          },
          error(socket, err) {
            log.debug('proxy', 'client socket error', { client: socket.data?.ip, error: err })
          },
        },
      })
    } catch (err) {
      const code = (err as { code?: string }).code
      const why = code === 'EADDRINUSE' ? 'address already in use' : (err as Error).message
      throw new RoxyError('ROXY_E_LISTEN', `cannot listen on ${host}:${port}: ${why}`, {
        cause: err,
      })
    }
    this.#collectLocalAddresses()
  }

  /**
   * Stop accepting, close idle keep-alive connections, let in-flight
   * requests finish for up to `graceMs`, then close everything.
   */
  async stop(graceMs: number): Promise<void> {
    this.#ctx.draining = true
    this.#listener?.stop(false)
    const deadline = Date.now() + graceMs
    while (Date.now() < deadline) {
      for (const conn of this.#connections) {
        conn.closeIfIdle()
      }
      if (this.stats.inFlight === 0) {
        break
      }
      await Bun.sleep(50)
    }
    this.#ctx.pool.closeAll()
    this.#listener?.stop(true)
    for (const conn of this.#connections) {
      conn.abort()
    }
  }

  #buildContext(options: ProxyServerOptions): ProxyContext {
    const resolvers = options.resolve.map(
      ([glob, address]) => [compileHostGlob(glob), address] as const,
    )
    const bypass = options.bypass.map(compileHostGlob)
    const routes = options.routes ?? {}
    return {
      timeouts: options.timeouts,
      observer: options.observer,
      pool: new UpstreamPool(options.pool),
      policy: options.policy,
      stats: this.stats,
      upstreamTls: options.upstreamTls,
      interceptor: undefined,
      draining: false,
      resolveAddress: compileResolver(options.resolve),
      isBypassed: compileBypass(options.bypass),
      isSelf: (host, port) => this.#isSelf(host, port),
      prewarm: (target) => this.#prewarm(target),
      localRoute(path) {
        if (path === '/healthz') {
          return { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok\n' }
        }
        return routes[path]?.()
      },
    }
  }

  /**
   * The connecting upstream goes straight into the pool: the tunnel's first
   * request takes it there (its bytes queue until the socket opens). Saves
   * the origin's TCP + TLS set-up on the first request to a new host
   * (measured 0.7–1 ms with a verified TLS origin, docs/bench.md).
   */
  #prewarm(target: Target): void {
    const ctx = this.#ctx
    if (
      this.#options.pool.maxIdlePerHost <= 0 ||
      ctx.pool.has(target.key) ||
      ctx.draining ||
      this.#isSelf(target.host, target.port)
    ) {
      return
    }
    const up = new Upstream(target.key)
    ctx.pool.release(up, Date.now())
    dialUpstream(
      up,
      {
        scheme: target.scheme,
        host: target.host,
        port: target.port,
        address: ctx.resolveAddress(target.host),
      },
      ctx.upstreamTls,
    )
  }

  #isSelf(host: string, port: number): boolean {
    if (port !== this.port) {
      return false
    }
    const address = this.#ctx.resolveAddress(host)
    return this.#localAddresses.has(host) || this.#localAddresses.has(address)
  }

  /** Every address that reaches this listener: the loop check compares against these. */
  #collectLocalAddresses(): void {
    const set = this.#localAddresses
    set.add(this.#options.host.replace(/^\[|\]$/g, '').toLowerCase())
    for (const name of ['localhost', '127.0.0.1', '::1', '0.0.0.0', '::']) {
      set.add(name)
    }
    for (const list of Object.values(networkInterfaces())) {
      for (const info of list ?? []) {
        set.add(info.address.toLowerCase())
      }
    }
  }
}

/** `resolve:` and `mitm.bypass` use the rule language's globs, case-insensitive like `host()`. */
function compileHostGlob(pattern: string): (host: string) => boolean {
  const glob = compileGlob(pattern, { ignoreCase: true })
  return (host) => glob.test(host)
}

function compileResolver(resolve: ProxyServerOptions['resolve']): (host: string) => string {
  const resolvers = resolve.map(([glob, address]) => [compileHostGlob(glob), address] as const)
  return (host) => {
    for (const [matches, address] of resolvers) {
      if (matches(host)) {
        return address
      }
    }
    return host
  }
}

function compileBypass(bypass: readonly string[]): (host: string) => boolean {
  const globs = bypass.map(compileHostGlob)
  return (host) => globs.some((matches) => matches(host))
}

export type { Socket }
