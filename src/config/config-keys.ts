/**
 * Every YAML key roxy accepts, by section. The reader rejects anything else (a typo must not
 * silently disable a protection, SPEC §2); the docs test checks each one is documented.
 */
export const CONFIG_KEYS = {
  top: [
    'listen',
    'reload_interval_secs',
    'unsafe_skip_verify',
    'upstream_ca',
    'shutdown_grace_secs',
    'tls',
    'mitm',
    'resolve',
    'pool',
    'server_timeouts',
    'upstream_timeouts',
    'tcp_keepalive',
    'runtime_metrics',
    'rate_limit',
    'state',
    'metrics',
    'rules',
    'headers',
    'throttle',
    'credits',
  ],
  tls: ['ca_cert', 'ca_key', 'cert_cache_size'],
  mitm: ['bypass'],
  pool: [
    'max_idle_per_host',
    'idle_timeout_secs',
    'http2_keep_alive_interval_secs',
    'http2_keep_alive_timeout_secs',
    'http2_keep_alive_while_idle',
  ],
  server_timeouts: [
    'http1_header_read_timeout_secs',
    'http2_keep_alive_interval_secs',
    'http2_keep_alive_timeout_secs',
    'http2_max_concurrent_streams',
    'max_connection_age_secs',
    'max_connection_age_grace_secs',
    'connect_initial_read_timeout_secs',
    'tls_handshake_timeout_secs',
  ],
  upstream_timeouts: ['connect_secs', 'idle_secs'],
  tcp_keepalive: ['enabled', 'time_secs', 'interval_secs', 'retries'],
  runtime_metrics: ['interval_secs'],
  rate_limit: ['cleanup_interval_secs'],
  state: ['path', 'redis'],
  metrics: ['path'],
  rules: ['name', 'rule', 'log_level'],
  headers: ['rules', 'add', 'remove'],
  'headers.add': ['name', 'value'],
  throttle: ['rule', 'soft_limit', 'max_delay_ms'],
  credits: ['rule', 'soft_limit', 'max_delay_ms', 'reset_schedule', 'message'],
} as const satisfies Record<string, readonly string[]>

/**
 * Top-level keys whose change takes effect without a restart (SPEC §7); a change to any
 * other key is reported by the watcher as needing a restart.
 */
export const HOT_RELOAD_KEYS: readonly string[] = [
  'reload_interval_secs',
  'shutdown_grace_secs',
  'mitm',
  'resolve',
  'rules',
  'headers',
  'throttle',
  'credits',
]

/** The largest delay a timer accepts, in whole seconds (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_SECS = 2_147_483

/** Cap on `max_delay_ms`: bounds how long one delayed request may hold a connection. */
export const MAX_DELAY_MS = 60_000

/** `snake_case` YAML key to its `camelCase` field name. */
export function toFieldName(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}
