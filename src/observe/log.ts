/**
 * The one logging seam. Every line is a JSON object on stdout:
 *
 *   {"ts":"2026-12-04T15:00:00.000Z","level":"info","target":"proxy","msg":"request",...fields}
 *
 * `ROXY_LOG` sets the levels: `info`, `debug`, `info,rules=debug`, `off`.
 * Callers check `isEnabled(level, target)` before building a payload, so a
 * disabled line costs one array read. Lines are buffered and written once per
 * event-loop turn (or when 64 KiB pile up), never one syscall per request.
 * Secret header values are redacted here, whatever the caller passed.
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'off'
export type LogTarget = 'proxy' | 'rules' | 'ratelimit' | 'credit' | 'reload' | 'tls' | 'runtime'
export type LogFields = Record<string, unknown>

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'off']
const TARGETS: readonly LogTarget[] = [
  'proxy',
  'rules',
  'ratelimit',
  'credit',
  'reload',
  'tls',
  'runtime',
]
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie'])
const FLUSH_BYTES = 64 * 1024

/** Index of each level; a line is written when its level is at least the target's threshold. */
const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 5 }

export function parseLogLevel(text: string): LogLevel | undefined {
  const lower = text.trim().toLowerCase()
  return (LOG_LEVELS as readonly string[]).includes(lower) ? (lower as LogLevel) : undefined
}

/** Replace the values of secret headers with `[redacted]`; other values are kept. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  let out: Record<string, string> | undefined
  for (const name in headers) {
    if (SECRET_HEADERS.has(name.toLowerCase())) {
      out ??= { ...headers }
      out[name] = '[redacted]'
    }
  }
  return out ?? headers
}

export interface LogSink {
  write(text: string): void
}

class Logger {
  #thresholds = new Map<string, number>()
  #default = RANK.info
  #buffer = ''
  #scheduled = false
  #sink: LogSink = { write: (text) => process.stdout.write(text) }
  #lastMs = 0
  #lastIso = ''

  /** Apply a `ROXY_LOG` value; returns the parts it did not understand. */
  configure(spec: string | undefined): string[] {
    const unknown: string[] = []
    this.#thresholds.clear()
    this.#default = RANK.info
    for (const part of (spec ?? '').split(',')) {
      const item = part.trim()
      if (!item) {
        continue
      }
      const eq = item.indexOf('=')
      const level = parseLogLevel(eq < 0 ? item : item.slice(eq + 1))
      const target = eq < 0 ? '' : item.slice(0, eq).trim().toLowerCase()
      if (!level || (target && !(TARGETS as readonly string[]).includes(target))) {
        unknown.push(item)
        continue
      }
      if (target) {
        this.#thresholds.set(target, RANK[level])
      } else {
        this.#default = RANK[level]
      }
    }
    return unknown
  }

  /** Test hook: send lines somewhere other than stdout. */
  setSink(sink: LogSink): void {
    this.#sink = sink
  }

  isEnabled(level: LogLevel, target: LogTarget): boolean {
    if (level === 'off') {
      return false
    }
    return RANK[level] >= (this.#thresholds.get(target) ?? this.#default)
  }

  log(level: LogLevel, target: LogTarget, msg: string, fields?: LogFields): void {
    if (!this.isEnabled(level, target)) {
      return
    }
    let line = `{"ts":"${this.#timestamp()}","level":"${level}","target":"${target}","msg":${JSON.stringify(msg)}`
    if (fields) {
      for (const key in fields) {
        const value = fields[key]
        if (value === undefined) {
          continue
        }
        // Keys are roxy's own identifiers: no escaping needed.
        line += `,"${key}":${serialize(key, value)}`
      }
    }
    this.#append(line + '}\n')
  }

  /**
   * Hot-path form of `log`: `json` is the fields as a pre-built JSON fragment
   * (`"a":1,"b":"x"`), so a per-request line costs one string build. Values
   * of secret headers must go through `formatHeaders`, which redacts them.
   */
  logJson(level: LogLevel, target: LogTarget, msg: string, json: string): void {
    if (!this.isEnabled(level, target)) {
      return
    }
    this.#append(
      `{"ts":"${this.#timestamp()}","level":"${level}","target":"${target}","msg":"${msg}",${json}}\n`,
    )
  }

  trace(target: LogTarget, msg: string, fields?: LogFields): void {
    this.log('trace', target, msg, fields)
  }
  debug(target: LogTarget, msg: string, fields?: LogFields): void {
    this.log('debug', target, msg, fields)
  }
  info(target: LogTarget, msg: string, fields?: LogFields): void {
    this.log('info', target, msg, fields)
  }
  warn(target: LogTarget, msg: string, fields?: LogFields): void {
    this.log('warn', target, msg, fields)
  }
  error(target: LogTarget, msg: string, fields?: LogFields): void {
    this.log('error', target, msg, fields)
  }

  /** Write everything buffered now (at exit, and before a fatal error). */
  flush(): void {
    this.#scheduled = false
    if (this.#buffer) {
      const text = this.#buffer
      this.#buffer = ''
      this.#sink.write(text)
    }
  }

  #append(line: string): void {
    this.#buffer += line
    if (this.#buffer.length >= FLUSH_BYTES) {
      this.flush()
    } else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.flush())
    }
  }

  /** One ISO string per millisecond at most: a busy proxy logs many lines per ms. */
  #timestamp(): string {
    const now = Date.now()
    if (now !== this.#lastMs) {
      this.#lastMs = now
      this.#lastIso = new Date(now).toISOString()
    }
    return this.#lastIso
  }
}

function serialize(key: string, value: unknown): string {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? String(value) : 'null'
  }
  if (key === 'headers' && value && typeof value === 'object') {
    return JSON.stringify(redactHeaders(value as Record<string, string>))
  }
  if (value instanceof Error) {
    return JSON.stringify(describeError(value))
  }
  return JSON.stringify(value) ?? 'null'
}

/** A headers object as JSON, secret values redacted: for `logJson` fragments. */
export function formatHeaders(headers: Record<string, string>): string {
  return JSON.stringify(redactHeaders(headers))
}

/** `message (code)` plus the chain of causes, for one flat log field. */
export function describeError(err: unknown): string {
  const parts: string[] = []
  let current: unknown = err
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof Error) {
      const code = (current as { code?: unknown }).code
      parts.push(code ? `${current.message} (${String(code)})` : current.message)
      current = current.cause
    } else {
      parts.push(String(current))
      break
    }
  }
  return parts.join(': ')
}

export const log = new Logger()
