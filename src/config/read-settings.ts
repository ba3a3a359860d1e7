/**
 * Reads the process settings of a config file: every top-level key except the policy lists
 * (`rules`, `headers`, `throttle`, `credits`, see read-policy.ts). Missing keys keep the
 * values of `config`, which the caller pre-fills with the defaults.
 */

import { isIP } from 'node:net'
import { resolve as resolvePath } from 'node:path'
import { CONFIG_KEYS, MAX_TIMER_SECS, toFieldName } from './config-keys.ts'
import { parseListenAddress } from './listen-address.ts'
import type { RoxyConfig } from './schema.ts'
import type { Field, YamlReader } from './yaml-reader.ts'

/** Inclusive range of each integer key, by section. */
type IntRanges = Record<string, readonly [min: number, max: number]>

const SECS: readonly [number, number] = [0, MAX_TIMER_SECS]
const POOL_INTS: IntRanges = {
  max_idle_per_host: [0, 10_000],
  idle_timeout_secs: SECS,
  http2_keep_alive_interval_secs: SECS,
  http2_keep_alive_timeout_secs: SECS,
}
const SERVER_TIMEOUT_INTS: IntRanges = {
  http1_header_read_timeout_secs: SECS,
  http2_keep_alive_interval_secs: SECS,
  http2_keep_alive_timeout_secs: SECS,
  http2_max_concurrent_streams: [0, 2 ** 31 - 1],
  max_connection_age_secs: SECS,
  max_connection_age_grace_secs: SECS,
  connect_initial_read_timeout_secs: SECS,
  tls_handshake_timeout_secs: SECS,
}
const TCP_KEEPALIVE_INTS: IntRanges = { time_secs: SECS, interval_secs: SECS, retries: [0, 255] }
const RESERVED_PATHS = ['/healthz', '/ca.pem']
const MEMORY_STATE = ':memory:'

/** Fills `config` from the top-level fields; `baseDir` anchors relative paths. */
export function readSettings(
  reader: YamlReader,
  top: Map<string, Field>,
  config: RoxyConfig,
  baseDir: string,
  checkGlob: (pattern: string) => void = () => {},
): void {
  readTopLevel(reader, top, config, baseDir)
  readTls(reader, top.get('tls'), config, baseDir)
  readMitm(reader, top.get('mitm'), config, checkGlob)
  readResolve(reader, top.get('resolve'), config, checkGlob)
  readState(reader, top.get('state'), config, baseDir)
  readMetrics(reader, top.get('metrics'), config)

  const pool = readSection(reader, top.get('pool'), 'pool')
  readInts(reader, pool, config.pool, POOL_INTS)
  const whileIdle = pool.get('http2_keep_alive_while_idle')
  config.pool.http2KeepAliveWhileIdle = reader.readBool(whileIdle, true)

  const timeouts = readSection(reader, top.get('server_timeouts'), 'server_timeouts')
  readInts(reader, timeouts, config.serverTimeouts, SERVER_TIMEOUT_INTS)

  const upstream = readSection(reader, top.get('upstream_timeouts'), 'upstream_timeouts')
  readInts(reader, upstream, config.upstreamTimeouts, { connect_secs: SECS, idle_secs: SECS })

  const keepalive = readSection(reader, top.get('tcp_keepalive'), 'tcp_keepalive')
  readInts(reader, keepalive, config.tcpKeepalive, TCP_KEEPALIVE_INTS)
  config.tcpKeepalive.enabled = reader.readBool(keepalive.get('enabled'), true)

  const metrics = readSection(reader, top.get('runtime_metrics'), 'runtime_metrics')
  readInts(reader, metrics, config.runtimeMetrics, { interval_secs: SECS })
  const rateLimit = readSection(reader, top.get('rate_limit'), 'rate_limit')
  readInts(reader, rateLimit, config.rateLimit, { cleanup_interval_secs: [1, MAX_TIMER_SECS] })
}

function readTopLevel(
  reader: YamlReader,
  top: Map<string, Field>,
  config: RoxyConfig,
  baseDir: string,
): void {
  const listen = top.get('listen')
  const listenText = reader.readString(listen)
  if (listen && listenText !== undefined) {
    try {
      config.listen = parseListenAddress(listenText)
    } catch (err) {
      reader.report('ROXY_E_CONFIG_INVALID', listen.at, `listen: ${(err as Error).message}`)
    }
  }
  const reload = top.get('reload_interval_secs')
  config.reloadIntervalSecs = reader.readInt(reload, config.reloadIntervalSecs, 0, MAX_TIMER_SECS)
  const grace = top.get('shutdown_grace_secs')
  config.shutdownGraceSecs = reader.readInt(grace, config.shutdownGraceSecs, 0, MAX_TIMER_SECS)
  config.unsafeSkipVerify = reader.readBool(top.get('unsafe_skip_verify'), false)
  config.upstreamCa = readPath(reader, top.get('upstream_ca'), baseDir)
}

function readTls(
  reader: YamlReader,
  field: Field | undefined,
  config: RoxyConfig,
  baseDir: string,
): void {
  const tls = readSection(reader, field, 'tls')
  config.tls.caCert = readPath(reader, tls.get('ca_cert'), baseDir)
  config.tls.caKey = readPath(reader, tls.get('ca_key'), baseDir)
  config.tls.certCacheSize = reader.readInt(tls.get('cert_cache_size'), 1000, 1, 1_000_000)
}

function readMitm(
  reader: YamlReader,
  field: Field | undefined,
  config: RoxyConfig,
  checkGlob: (pattern: string) => void,
): void {
  const mitm = readSection(reader, field, 'mitm')
  for (const item of reader.readList(mitm.get('bypass'))) {
    const glob = reader.readString(item)
    if (glob !== undefined && glob.trim() === '') {
      reader.report('ROXY_E_CONFIG_INVALID', item.at, `${item.path} must not be empty`)
    } else if (glob !== undefined && isValidGlob(reader, item, glob.trim(), checkGlob)) {
      config.mitm.bypass.push(glob.trim().toLowerCase())
    }
  }
}

/** Report a host glob that does not compile, naming the setting and the reason. */
function isValidGlob(
  reader: YamlReader,
  item: Field,
  glob: string,
  checkGlob: (pattern: string) => void,
): boolean {
  try {
    checkGlob(glob)
    return true
  } catch (err) {
    const reason = ((err as Error).message.split('\n')[0] ?? '').replace(/^.*?: /, '')
    reader.report(
      'ROXY_E_CONFIG_INVALID',
      item.at,
      `${item.path}: bad host glob '${glob}': ${reason}`,
    )
    return false
  }
}

function readResolve(
  reader: YamlReader,
  field: Field | undefined,
  config: RoxyConfig,
  checkGlob: (pattern: string) => void,
): void {
  if (!field) {
    return
  }
  const entries = reader.readMap(field, null)
  for (const [glob, item] of entries) {
    const text = reader.readString(item)?.trim()
    const address = text?.replace(/^\[(.*)\]$/, '$1')
    if (text !== undefined && isIP(address ?? '') === 0) {
      const message = `resolve: '${text}' for '${glob}' is not an IP address`
      reader.report('ROXY_E_CONFIG_INVALID', item.at, message)
    } else if (address !== undefined && isValidGlob(reader, item, glob, checkGlob)) {
      config.resolve.push({ glob: glob.toLowerCase(), address })
    }
  }
}

function readState(
  reader: YamlReader,
  field: Field | undefined,
  config: RoxyConfig,
  baseDir: string,
): void {
  const state = readSection(reader, field, 'state')
  const pathField = state.get('path')
  const pathText = reader.readString(pathField)
  if (pathText?.trim() === MEMORY_STATE) {
    config.state.path = undefined
  } else if (pathText !== undefined) {
    config.state.path = toAbsolutePath(reader, pathField!, pathText, baseDir)
  }
  const redis = reader.readString(state.get('redis'))?.trim()
  if (redis !== undefined && !/^rediss?:\/\/\S+$/.test(redis)) {
    const at = state.get('redis')!.at
    reader.report('ROXY_E_CONFIG_INVALID', at, `state.redis must be a redis:// or rediss:// URL`)
  } else {
    config.state.redis = redis
  }
}

function readMetrics(reader: YamlReader, field: Field | undefined, config: RoxyConfig): void {
  const metrics = readSection(reader, field, 'metrics')
  const pathField = metrics.get('path')
  const path = reader.readString(pathField)
  if (pathField && path !== undefined) {
    if (!/^\/[\x21-\x7e]*$/.test(path) || path.includes('?')) {
      const message = `metrics.path must start with '/' and hold no spaces or query`
      reader.report('ROXY_E_CONFIG_INVALID', pathField.at, message)
    } else if (RESERVED_PATHS.includes(path)) {
      const message = `metrics.path may not be ${path}, which roxy already serves`
      reader.report('ROXY_E_CONFIG_CONFLICT', pathField.at, message)
    } else {
      config.metrics.path = path
    }
  }
}

/** Reads a section mapping against its known keys; an absent section reads as empty. */
function readSection(
  reader: YamlReader,
  field: Field | undefined,
  section: keyof typeof CONFIG_KEYS,
): Map<string, Field> {
  return field ? reader.readMap(field, CONFIG_KEYS[section]) : new Map()
}

/** Reads each key of `ranges` into the same-named camelCase field of `target`. */
function readInts(
  reader: YamlReader,
  fields: Map<string, Field>,
  target: object,
  ranges: IntRanges,
): void {
  const record = target as Record<string, number>
  for (const [key, [min, max]] of Object.entries(ranges)) {
    const name = toFieldName(key)
    record[name] = reader.readInt(fields.get(key), record[name], min, max)
  }
}

/** A file path, made absolute against `baseDir`; undefined when absent. */
function readPath(reader: YamlReader, field: Field | undefined, baseDir: string) {
  const text = reader.readString(field)
  return text === undefined ? undefined : toAbsolutePath(reader, field!, text, baseDir)
}

function toAbsolutePath(reader: YamlReader, field: Field, text: string, baseDir: string) {
  if (text.trim() === '' || text.includes('\0')) {
    reader.report('ROXY_E_CONFIG_INVALID', field.at, `${field.path} must be a file path`)
    return undefined
  }
  return resolvePath(baseDir, text)
}
