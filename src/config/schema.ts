/**
 * The typed configuration roxy runs on (SPEC §2), one field per YAML key.
 *
 * Shapes: YAML keys are snake_case (`reload_interval_secs`), fields here are the same words
 * in camelCase (`reloadIntervalSecs`). Every field is filled in: a key missing from the file
 * takes the `@default` written beside it, so no consumer ever handles `undefined` for a
 * setting that has a default. Relative paths are resolved against the directory of the
 * config file. A snapshot is treated as immutable: a reload builds a new one (STYLE §13).
 *
 * "Reload" says what happens when the key changes in the file of a running proxy (SPEC §7):
 * `hot` means new requests see the new value; `restart` means the change is logged as
 * needing a restart and the running value is kept.
 */

import type { LogLevel } from '../observe/log.ts'
import type { SourcePosition } from '../errors.ts'

/** Where the proxy listens; parsed from `"host:port"` or `"[ipv6]:port"`. */
export interface ListenAddress {
  /** Host name or IP literal; IPv6 without brackets (`::1`). */
  host: string
  /** TCP port, 0..65535; 0 asks the system for a free port (tests). */
  port: number
}

/** `tls:` — the certificate authority used to intercept HTTPS (SPEC §4). */
export interface TlsSettings {
  /**
   * PEM certificate of the MITM CA (`tls.ca_cert`), absolute path.
   * Set together with `caKey` or not at all; neither means an ephemeral CA made at start-up.
   * @default undefined (ephemeral CA)
   * Reload: restart.
   */
  caCert?: string
  /**
   * PEM private key (RSA or EC) of the MITM CA (`tls.ca_key`), absolute path.
   * Both or neither with `caCert`. Security: a key readable by group/others draws a
   * startup warning, since anyone holding it can impersonate every site to your clients.
   * @default undefined (ephemeral CA)
   * Reload: restart.
   */
  caKey?: string
  /**
   * Generated leaf certificates kept in the LRU cache (`tls.cert_cache_size`), 24 h TTL.
   * Range 1..1000000. Bounds memory: each entry costs one certificate (see docs/memory.md).
   * @default 1000
   * Reload: restart.
   */
  certCacheSize: number
}

/** `mitm:` **(new)** — interception exceptions. */
export interface MitmSettings {
  /**
   * Host globs (`*.bank.example`) whose CONNECT tunnels are relayed raw, never intercepted.
   * Matched against the lower-case host without port; stored lower-cased.
   * @default []
   * Reload: hot (read per CONNECT from the current snapshot).
   */
  bypass: string[]
}

/** One `resolve:` entry **(new)**: a host glob pinned to an address, like `curl --resolve`. */
export interface ResolveEntry {
  /** Host glob, lower-cased (`*.test`). */
  glob: string
  /** IPv4 or IPv6 literal, IPv6 without brackets. */
  address: string
}

/** `pool:` — idle upstream connections kept for reuse (SPEC §3). */
export interface PoolSettings {
  /**
   * Idle connections kept per (scheme, host, port); 0 disables pooling. Range 0..10000.
   * Bounds memory and the sockets an upstream sees from us.
   * @default 10
   * Reload: restart.
   */
  maxIdlePerHost: number
  /**
   * Seconds an idle pooled connection is kept before it is closed.
   * @default 30
   * Reload: restart.
   */
  idleTimeoutSecs: number
  /**
   * Seconds between HTTP/2 PINGs on pooled upstream connections; 0 = off.
   * Accepted for Roxy compatibility; applies once upstream HTTP/2 exists (warning when set).
   * @default 20
   * Reload: restart.
   */
  http2KeepAliveIntervalSecs: number
  /**
   * Seconds to wait for a PING ack; must be below the interval when the interval is > 0.
   * Accepted; applies once upstream HTTP/2 exists (warning when set).
   * @default 10
   * Reload: restart.
   */
  http2KeepAliveTimeoutSecs: number
  /**
   * Also PING idle pooled HTTP/2 connections. Accepted; applies once upstream HTTP/2 exists.
   * @default true
   * Reload: restart.
   */
  http2KeepAliveWhileIdle: boolean
}

/**
 * `upstream_timeouts:` **(new)** — limits on the origin side, in seconds. A request that
 * runs into one is answered 504 (or cut, when the response head was already relayed).
 * Security: finite defaults, so a stalled origin cannot pin client connections for ever.
 * Reload: restart.
 */
export interface UpstreamTimeouts {
  /**
   * Time to open a connection to the origin (TCP, and TLS for https); 0 = off.
   * @default 10
   */
  connectSecs: number
  /**
   * Longest silence from the origin while a response is awaited or streamed; 0 = off.
   * @default 60
   */
  idleSecs: number
}

/**
 * `server_timeouts:` — limits on the client side of the proxy, all in seconds.
 * Security: every default is finite so a silent or slow client (slow-loris) cannot hold a
 * socket and its memory for ever. Reload: restart, for every field.
 */
export interface ServerTimeouts {
  /**
   * Time to receive a complete request head; 0 = off.
   * @default 15
   */
  http1HeaderReadTimeoutSecs: number
  /**
   * HTTP/2 PING interval towards clients; 0 = off. Accepted; applies once h2 exists.
   * @default 20
   */
  http2KeepAliveIntervalSecs: number
  /**
   * HTTP/2 PING ack timeout; must be below the interval when the interval is > 0.
   * Accepted; applies once h2 exists.
   * @default 10
   */
  http2KeepAliveTimeoutSecs: number
  /**
   * HTTP/2 streams per client connection; 0 = unbounded. Accepted; applies once h2 exists.
   * @default 256
   */
  http2MaxConcurrentStreams: number
  /**
   * Age after which a client connection is drained, then force-closed; 0 = off.
   * @default 1800
   */
  maxConnectionAgeSecs: number
  /**
   * Time a connection past its age may take to drain; > 0 and below the age when age > 0.
   * @default 30
   */
  maxConnectionAgeGraceSecs: number
  /**
   * Time allowed between a CONNECT's 200 and the first byte from the client; 0 = off.
   * @default 15
   */
  connectInitialReadTimeoutSecs: number
  /**
   * Time allowed for the intercepted TLS handshake with the client; 0 = off.
   * @default 15
   */
  tlsHandshakeTimeoutSecs: number
}

/**
 * `tcp_keepalive:` — kernel keep-alive on client sockets. Bun exposes only
 * `setKeepAlive(enable, initialDelay)`, so `intervalSecs` and `retries` are accepted and
 * named in a startup warning when set; the kernel defaults apply to them.
 * Reload: restart, for every field.
 */
export interface TcpKeepalive {
  /**
   * Turn SO_KEEPALIVE on for accepted sockets; finds dead peers on silent connections.
   * @default true
   */
  enabled: boolean
  /**
   * Idle seconds before the first probe; > 0 when enabled.
   * @default 60
   */
  timeSecs: number
  /**
   * Seconds between probes; > 0 when enabled. Not applied by Bun (warning when set).
   * @default 30
   */
  intervalSecs: number
  /**
   * Unanswered probes before the peer is dead, 0..255. Not applied by Bun (warning when set).
   * @default 4
   */
  retries: number
}

/** `runtime_metrics:` */
export interface RuntimeMetricsSettings {
  /**
   * Seconds between `runtime` log lines with connection and memory figures; 0 = off.
   * @default 0
   * Reload: restart.
   */
  intervalSecs: number
}

/** `rate_limit:` — housekeeping of the counters (SPEC §6). */
export interface RateLimitSettings {
  /**
   * Seconds between sweeps that drop idle counters; >= 1. Bounds counter memory.
   * @default 60
   * Reload: restart.
   */
  cleanupIntervalSecs: number
}

/** `state:` **(new)** — where rate-limit and credit counters live. */
export interface StateSettings {
  /**
   * SQLite file for counters, so credits survive restarts. `:memory:` keeps them in memory.
   * @default `roxy-state.sqlite` beside the config file; memory only on the built-in default
   * Reload: restart.
   */
  path?: string
  /**
   * Redis URL shared by several roxy instances (`redis://127.0.0.1:6379`). Takes precedence
   * over `path` when set.
   * @default undefined
   * @experimental Accepted and named in a startup warning unless the runtime reports Redis
   * support (LoadOptions.supports.redis).
   * Reload: restart.
   */
  redis?: string
}

/** `metrics:` **(new)** */
export interface MetricsSettings {
  /**
   * Origin-form path on the proxy port that serves Prometheus text. Starts with `/`; may
   * not be `/healthz` or `/ca.pem`.
   * @default '/metrics'
   * Reload: restart.
   */
  path: string
}

/** One `rules:` entry. Reload: hot (the whole list is swapped atomically). */
export interface RuleEntry {
  /** Unique, non-empty name; scopes counters and appears in logs and `headers:`/`throttle:`. */
  name: string
  /**
   * Rule text in the rule language (SPEC §5).
   * @example 'path("/api/*") = rate_limit(100/s, header(X-Key))'
   */
  rule: string
  /**
   * Level of this rule's per-request log line; `off` drops it. Any case in YAML.
   * @default 'info'
   */
  logLevel: LogLevel
  /** Where the first character of the rule text is in the file (for rule error messages). */
  textAt: SourcePosition
}

/** A header to add: `{ name, value }`. */
export interface HeaderValue {
  /** RFC 9110 field name (token). */
  name: string
  /** RFC 9110 field value: visible characters, space and tab; no CR, LF or NUL. */
  value: string
}

/** One `headers:` entry: changes applied when one of `rules` decides with `mangle`. */
export interface HeaderEntry {
  /** Names of existing rules that trigger this entry. */
  rules: string[]
  /** Headers added, in order. @default [] */
  add: HeaderValue[]
  /** Header names removed (case-insensitive). @default [] */
  remove: string[]
}

/** One `throttle:` entry: a soft limit that delays before the rule's `rate_limit` rejects. */
export interface ThrottleEntry {
  /** Name of an existing rule; at most one entry per rule. */
  rule: string
  /** Requests in the window after which delays start; below the rule's rate limit. */
  softLimit: number
  /**
   * Delay at the hard limit in milliseconds, 0..60000. The cap bounds how long a delayed
   * request holds a connection.
   * @default 2000
   */
  maxDelayMs: number
}

/** One `credits:` entry: required for, and only allowed on, a rule with `credit(...)`. */
export interface CreditEntry {
  /** Name of an existing rule whose action contains `credit(...)`; one entry per rule. */
  rule: string
  /** Used credits after which delays start; below the rule's credit limit. @default undefined */
  softLimit?: number
  /** Delay at the limit in milliseconds, 0..60000. @default 2000 */
  maxDelayMs: number
  /**
   * When the budget resets, UTC: `daily@HH:MM`, `weekly@Mon-HH:MM`, `monthly@DD-HH:MM`
   * (DD 1..28).
   * @example 'weekly@Monday-09:00'
   */
  resetSchedule: string
  /**
   * Body of the 429 when exhausted; `{reset_time}` becomes `YYYY-MM-DDTHH:MM:SSZ`.
   * @default 'Request credit exhausted until {reset_time}'
   */
  message: string
}

/** The whole configuration. */
export interface RoxyConfig {
  /** Absolute path of the file this came from; undefined for the built-in default. */
  file?: string
  /**
   * Listen address (`listen`). Security: loopback by default so a fresh proxy is not an
   * open relay for the network.
   * @default { host: '127.0.0.1', port: 8080 }
   * Reload: restart.
   */
  listen: ListenAddress
  /**
   * Seconds between polls of the config file (`reload_interval_secs`); 0 = off.
   * SIGHUP reloads at once in either case.
   * @default 5 with a file; 0 on the built-in default
   * Reload: hot (the poll is rescheduled).
   */
  reloadIntervalSecs: number
  /**
   * Accept any upstream certificate (`unsafe_skip_verify`). Security: off by default, since
   * on it lets anyone on the path read and alter "HTTPS" traffic; a startup warning says so.
   * @default false
   * Reload: restart.
   */
  unsafeSkipVerify: boolean
  /**
   * PEM bundle of extra CAs trusted for upstream TLS, on top of the system roots
   * (`upstream_ca`, new), absolute path.
   * @default undefined
   * Reload: restart.
   */
  upstreamCa?: string
  /**
   * Seconds in-flight requests may take to finish after SIGTERM/SIGINT (`shutdown_grace_secs`,
   * new).
   * @default 10
   * Reload: hot.
   */
  shutdownGraceSecs: number
  /** `tls:` */
  tls: TlsSettings
  /** `mitm:` */
  mitm: MitmSettings
  /**
   * `resolve:` (new) host globs pinned to addresses, first match wins, in file order.
   * @default []
   * Reload: hot (read per upstream connection from the current snapshot).
   */
  resolve: ResolveEntry[]
  /** `pool:` */
  pool: PoolSettings
  /** `server_timeouts:` */
  serverTimeouts: ServerTimeouts
  /** `upstream_timeouts:` (new) */
  upstreamTimeouts: UpstreamTimeouts
  /** `tcp_keepalive:` */
  tcpKeepalive: TcpKeepalive
  /** `runtime_metrics:` */
  runtimeMetrics: RuntimeMetricsSettings
  /** `rate_limit:` */
  rateLimit: RateLimitSettings
  /** `state:` */
  state: StateSettings
  /** `metrics:` */
  metrics: MetricsSettings
  /**
   * `rules:` in file order; the first whose condition holds decides. No rules: everything is
   * forwarded.
   * @default []
   * Reload: hot.
   */
  rules: RuleEntry[]
  /** `headers:` @default [] Reload: hot. */
  headers: HeaderEntry[]
  /** `throttle:` @default [] Reload: hot. */
  throttle: ThrottleEntry[]
  /** `credits:` @default [] Reload: hot. */
  credits: CreditEntry[]
}
