/**
 * Config (data) → what the proxy server takes. Kept apart from start-up so
 * the mapping reads in one place and units are converted exactly once.
 */
import type { RoxyConfig } from '../config/index.ts'
import type { ProxyTimeouts } from '../proxy/context.ts'
import type { ProxyServerOptions } from '../proxy/server.ts'

const SECOND = 1000
/** `0 = off` in the config becomes "never" for the deadline sweep. */
const NEVER_MS = 2 ** 31 - 1

function secs(value: number): number {
  return value > 0 ? value * SECOND : NEVER_MS
}

export function timeoutsOf(config: RoxyConfig): ProxyTimeouts {
  return {
    headerReadMs: config.serverTimeouts.http1HeaderReadTimeoutSecs * SECOND,
    connectInitialReadMs: secs(config.serverTimeouts.connectInitialReadTimeoutSecs),
    upstreamConnectMs: secs(config.upstreamTimeouts.connectSecs),
    upstreamIdleMs: secs(config.upstreamTimeouts.idleSecs),
    maxConnectionAgeMs: config.serverTimeouts.maxConnectionAgeSecs * SECOND,
    maxConnectionAgeGraceMs: config.serverTimeouts.maxConnectionAgeGraceSecs * SECOND,
    shutdownGraceMs: config.shutdownGraceSecs * SECOND,
  }
}

/** Everything but the policy, the interceptor and the routes, which the app builds. */
export function serverOptionsOf(
  config: RoxyConfig,
): Omit<ProxyServerOptions, 'policy' | 'interceptor' | 'routes' | 'observer' | 'upstreamTls'> {
  return {
    host: config.listen.host,
    port: config.listen.port,
    timeouts: timeoutsOf(config),
    pool: {
      maxIdlePerHost: config.pool.maxIdlePerHost,
      idleTimeoutMs: config.pool.idleTimeoutSecs * SECOND,
    },
    resolve: config.resolve.map((entry) => [entry.glob, entry.address] as const),
    bypass: config.mitm.bypass,
    tcpKeepAlive: {
      enabled: config.tcpKeepalive.enabled,
      initialDelayMs: config.tcpKeepalive.timeSecs * SECOND,
    },
  }
}
