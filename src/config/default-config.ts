import type { RoxyConfig } from './schema.ts'

/** Reload poll interval when a file does not say (SPEC §2); the built-in default uses 0. */
export const DEFAULT_RELOAD_INTERVAL_SECS = 5

/** Body of a credit 429 when `credits[].message` is not set (Roxy-compatible wording). */
export const DEFAULT_CREDIT_MESSAGE = 'Request credit exhausted until {reset_time}'

/** Name of the counter store created beside the config file when `state.path` is not set. */
export const DEFAULT_STATE_FILE = 'roxy-state.sqlite'

/** Delay at the hard limit for `throttle:` and `credits:` entries, in milliseconds. */
export const DEFAULT_MAX_DELAY_MS = 2000

/**
 * The built-in default (SPEC §1): listen on 127.0.0.1:8080, ephemeral CA, no rules (forward
 * everything), hot reload off, counters in memory. A file's missing keys take these values,
 * except `reloadIntervalSecs` (5) and `state.path` (beside the file).
 * Returns a fresh object each call, so callers may not share mutations by accident.
 */
export function defaultConfig(): RoxyConfig {
  return {
    listen: { host: '127.0.0.1', port: 8080 },
    reloadIntervalSecs: 0,
    unsafeSkipVerify: false,
    shutdownGraceSecs: 10,
    tls: { certCacheSize: 1000 },
    mitm: { bypass: [] },
    resolve: [],
    pool: {
      maxIdlePerHost: 10,
      idleTimeoutSecs: 30,
      http2KeepAliveIntervalSecs: 20,
      http2KeepAliveTimeoutSecs: 10,
      http2KeepAliveWhileIdle: true,
    },
    serverTimeouts: {
      http1HeaderReadTimeoutSecs: 15,
      http2KeepAliveIntervalSecs: 20,
      http2KeepAliveTimeoutSecs: 10,
      http2MaxConcurrentStreams: 256,
      maxConnectionAgeSecs: 1800,
      maxConnectionAgeGraceSecs: 30,
      connectInitialReadTimeoutSecs: 15,
      tlsHandshakeTimeoutSecs: 15,
    },
    upstreamTimeouts: { connectSecs: 10, idleSecs: 60 },
    tcpKeepalive: { enabled: true, timeSecs: 60, intervalSecs: 30, retries: 4 },
    runtimeMetrics: { intervalSecs: 0 },
    rateLimit: { cleanupIntervalSecs: 60 },
    state: {},
    metrics: { path: '/metrics' },
    rules: [],
    headers: [],
    throttle: [],
    credits: [],
  }
}
