/**
 * Checks that relate several settings (timeout pairs, both-or-neither keys), and the
 * warnings for settings the runtime accepts but cannot honour (SPEC §2: named once, never
 * silently ignored).
 */

import type { SourcePosition } from '../errors.ts'
import type { RoxyConfig } from './schema.ts'
import type { YamlReader } from './yaml-reader.ts'

/** What the running build can do; features it lacks turn their settings into warnings. */
export interface RuntimeSupport {
  /** Counters can live in Redis (`state.redis`). @default false */
  redis?: boolean
  /** HTTP/2 exists on the client and upstream side (`*http2_*` settings). @default false */
  http2?: boolean
}

/** Reports inconsistent pairs of settings. */
export function checkSettings(reader: YamlReader, config: RoxyConfig): void {
  checkKeepAlivePair(reader, 'pool', config.pool)
  checkKeepAlivePair(reader, 'server_timeouts', config.serverTimeouts)
  checkConnectionAge(reader, config)
  checkTcpKeepalive(reader, config)
  checkCaPair(reader, config)
}

/** Adds a warning for each set key the runtime will not apply, and for unsafe settings. */
export function warnUnsupported(reader: YamlReader, config: RoxyConfig, support: RuntimeSupport) {
  const bunKeepalive =
    'Bun exposes only setKeepAlive(enable, initialDelay); the kernel default applies'
  warnIfSet(reader, 'tcp_keepalive.interval_secs', `is not applied: ${bunKeepalive}`)
  warnIfSet(reader, 'tcp_keepalive.retries', `is not applied: ${bunKeepalive}`)
  // TODO(spec): main.ts passes supports.http2 once HTTP/2 exists (SPEC §2 pool, server_timeouts)
  if (!support.http2) {
    for (const path of reader.fields.keys()) {
      if (/^(pool|server_timeouts)\.http2_/.test(path)) {
        warnIfSet(reader, path, 'is accepted but not applied until HTTP/2 is supported')
      }
    }
  }
  // TODO(spec): main.ts passes supports.redis once src/limits has a Redis store (SPEC §6)
  if (!support.redis) {
    const redis = 'is accepted but Redis is not supported yet; counters stay in state.path'
    warnIfSet(reader, 'state.redis', redis)
  }
  if (config.unsafeSkipVerify) {
    const risk = 'so anyone on the path can read and alter HTTPS traffic'
    warnIfSet(
      reader,
      'unsafe_skip_verify',
      `is true: upstream certificates are not verified, ${risk}`,
    )
  }
}

function checkKeepAlivePair(
  reader: YamlReader,
  section: 'pool' | 'server_timeouts',
  values: { http2KeepAliveIntervalSecs: number; http2KeepAliveTimeoutSecs: number },
): void {
  const interval = values.http2KeepAliveIntervalSecs
  const timeout = values.http2KeepAliveTimeoutSecs
  if (interval === 0 || (timeout > 0 && timeout < interval)) {
    return
  }
  const timeoutKey = `${section}.http2_keep_alive_timeout_secs`
  const intervalKey = `${section}.http2_keep_alive_interval_secs`
  const message =
    `${timeoutKey} (${timeout}) must be above 0 and below ` + `${intervalKey} (${interval})`
  reader.report('ROXY_E_CONFIG_CONFLICT', locate(reader, timeoutKey, intervalKey), message)
}

function checkConnectionAge(reader: YamlReader, config: RoxyConfig): void {
  const age = config.serverTimeouts.maxConnectionAgeSecs
  const grace = config.serverTimeouts.maxConnectionAgeGraceSecs
  if (age === 0 || (grace > 0 && grace < age)) {
    return
  }
  const graceKey = 'server_timeouts.max_connection_age_grace_secs'
  const ageKey = 'server_timeouts.max_connection_age_secs'
  const message = `${graceKey} (${grace}) must be above 0 and below ${ageKey} (${age})`
  reader.report('ROXY_E_CONFIG_CONFLICT', locate(reader, graceKey, ageKey), message)
}

function checkTcpKeepalive(reader: YamlReader, config: RoxyConfig): void {
  const { enabled, timeSecs, intervalSecs } = config.tcpKeepalive
  if (!enabled) {
    return
  }
  for (const [key, value] of [
    ['time_secs', timeSecs],
    ['interval_secs', intervalSecs],
  ] as const) {
    if (value === 0) {
      const path = `tcp_keepalive.${key}`
      const hint = 'set enabled: false to turn keep-alive off'
      const message = `${path} must be above 0 while tcp_keepalive.enabled is true (${hint})`
      reader.report('ROXY_E_CONFIG_CONFLICT', locate(reader, path, 'tcp_keepalive'), message)
    }
  }
}

function checkCaPair(reader: YamlReader, config: RoxyConfig): void {
  const { caCert, caKey } = config.tls
  if ((caCert === undefined) === (caKey === undefined)) {
    return
  }
  const [present, missing] = caCert ? ['ca_cert', 'ca_key'] : ['ca_key', 'ca_cert']
  const hint = 'give both, or neither for an ephemeral CA'
  const message = `tls.${present} is set without tls.${missing}: ${hint}`
  reader.report('ROXY_E_CONFIG_CONFLICT', locate(reader, `tls.${present}`, 'tls'), message)
}

function warnIfSet(reader: YamlReader, path: string, message: string): void {
  const field = reader.fields.get(path)
  if (field && field.node !== null) {
    reader.warn(field.keyAt, `${path} ${message}`)
  }
}

/** The position of the first of `paths` that is in the file, else the file's start. */
function locate(reader: YamlReader, ...paths: string[]): SourcePosition {
  for (const path of paths) {
    const field = reader.fields.get(path)
    if (field) {
      return field.at
    }
  }
  return reader.positionAt(0)
}
