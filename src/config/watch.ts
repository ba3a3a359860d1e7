/**
 * Hot reload (SPEC §7). Every `reload_interval_secs`, and at once on SIGHUP (`reloadNow`),
 * the config file is read; when its bytes differ from the last ones seen, the whole file is
 * validated. Invalid: `onInvalid` gets every problem and the running config stays. Valid:
 * `onValid` gets a new snapshot to swap in for new requests.
 *
 * The snapshot handed over is the *effective* config: hot settings (rules, headers, throttle,
 * credits, mitm, resolve, ...) from the file, restart-only settings (listen, tls, timeouts,
 * pool, state, ...) kept from the running config, since the process still runs with those.
 * Changed restart-only keys are listed in `restartNeeded` for a "needs restart" log line,
 * on every reload until the process restarts.
 *
 *   file bytes ──same as last seen──▶ 'unchanged'
 *        │ differ
 *        ▼
 *   parseConfigText ──ConfigError──▶ onInvalid, 'rejected'
 *        │ ok
 *        ▼
 *   merge(running, loaded) ──▶ onValid({ config, restartNeeded, ... }), 'applied'
 */

import { readFile } from 'node:fs/promises'
import { ConfigError } from '../errors.ts'
import { log } from '../observe/log.ts'
import { CONFIG_KEYS, HOT_RELOAD_KEYS, toFieldName } from './config-keys.ts'
import { decodeConfigBytes, MAX_CONFIG_BYTES } from './load-config.ts'
import { parseConfigText } from './parse-config.ts'
import type { LoadOptions } from './parse-config.ts'
import type { RoxyConfig } from './schema.ts'

/** What one poll did. */
export type ReloadOutcome = 'unchanged' | 'applied' | 'rejected'

/** Handed to `onValid`. */
export interface ReloadResult {
  /** The snapshot to run on: hot settings from the file, restart-only ones kept. */
  config: RoxyConfig
  /** The config exactly as the file says. */
  loaded: RoxyConfig
  /** Warnings of the new file (the same strings as at start-up). */
  warnings: string[]
  /** Top-level YAML keys whose new value needs a restart, e.g. `['listen', 'tls']`. */
  restartNeeded: string[]
}

/** The timer functions the watcher uses; tests pass their own or call `tick()` directly. */
export interface WatchTimers {
  setInterval(fn: () => void, ms: number): unknown
  clearInterval(handle: unknown): void
}

/** `path` and `current` say what runs; the LoadOptions validate each new version. */
export interface ConfigWatcherOptions extends LoadOptions {
  /** The config file. */
  path: string
  /** The running config. */
  current: RoxyConfig
  /** The bytes `current` was loaded from (`LoadedConfig.bytes`); else the first poll validates. */
  bytes?: Uint8Array
  onValid(result: ReloadResult): void
  onInvalid(error: ConfigError): void
  /** @default the global setInterval/clearInterval, unref'd */
  timers?: WatchTimers
  /** Test hook: reads the file. @default node:fs/promises readFile */
  readFile?: (path: string) => Promise<Uint8Array>
}

const RESTART_KEYS = CONFIG_KEYS.top.filter((key) => !HOT_RELOAD_KEYS.includes(key))

const DEFAULT_TIMERS: WatchTimers = {
  setInterval(fn, ms) {
    const handle = setInterval(fn, ms)
    handle.unref?.()
    return handle
  },
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
}

/** Polls one config file and hands valid new versions over; see the diagram above. */
export class ConfigWatcher {
  #opts: ConfigWatcherOptions
  #current: RoxyConfig
  #lastSeen: Uint8Array | string | undefined
  #timers: WatchTimers
  #timer: unknown
  #timerSecs = 0
  #inFlight: Promise<ReloadOutcome> | undefined

  constructor(opts: ConfigWatcherOptions) {
    this.#opts = opts
    this.#current = opts.current
    this.#lastSeen = opts.bytes
    this.#timers = opts.timers ?? DEFAULT_TIMERS
  }

  /** The config currently in force (the last one handed to `onValid`, or the initial one). */
  get current(): RoxyConfig {
    return this.#current
  }

  /** Starts polling every `reloadIntervalSecs` of the running config; 0 polls never. */
  start(): void {
    this.#schedule(this.#current.reloadIntervalSecs)
  }

  /** Stops polling; `reloadNow()` still works. */
  stop(): void {
    this.#schedule(0)
  }

  /** For SIGHUP: poll now, whatever the interval. */
  reloadNow(): Promise<ReloadOutcome> {
    return this.tick()
  }

  /** One poll. Concurrent calls share the poll in progress. */
  tick(): Promise<ReloadOutcome> {
    this.#inFlight ??= this.#poll().finally(() => {
      this.#inFlight = undefined
    })
    return this.#inFlight
  }

  async #poll(): Promise<ReloadOutcome> {
    const read = await this.#read()
    if (isSame(read, this.#lastSeen)) {
      return 'unchanged'
    }
    this.#lastSeen = read
    if (typeof read === 'string') {
      return this.#reject(readFailure(this.#opts.path, read))
    }
    try {
      const text = decodeConfigBytes(read, this.#opts.path)
      const { config: loaded, warnings } = parseConfigText(text, this.#opts.path, this.#opts)
      return this.#apply(loaded, warnings)
    } catch (err) {
      if (err instanceof ConfigError) {
        return this.#reject(err)
      }
      throw err
    }
  }

  #apply(loaded: RoxyConfig, warnings: string[]): ReloadOutcome {
    const running = this.#current
    const restartNeeded = listRestartChanges(running, loaded)
    const config = keepRestartSettings(running, loaded)
    this.#current = config
    this.#opts.onValid({ config, loaded, warnings, restartNeeded })
    if (this.#timer !== undefined && config.reloadIntervalSecs !== this.#timerSecs) {
      this.#schedule(config.reloadIntervalSecs)
    }
    return 'applied'
  }

  #reject(error: ConfigError): ReloadOutcome {
    this.#opts.onInvalid(error)
    return 'rejected'
  }

  /** The file's bytes, or a string saying why it could not be read. */
  async #read(): Promise<Uint8Array | string> {
    try {
      const bytes = await (this.#opts.readFile ?? readFile)(this.#opts.path)
      return bytes.byteLength > MAX_CONFIG_BYTES ? `larger than ${MAX_CONFIG_BYTES} bytes` : bytes
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? (err as Error).message
    }
  }

  #schedule(secs: number): void {
    if (this.#timer !== undefined) {
      this.#timers.clearInterval(this.#timer)
      this.#timer = undefined
    }
    this.#timerSecs = secs
    if (secs > 0) {
      this.#timer = this.#timers.setInterval(() => this.#tickFromTimer(), secs * 1000)
    }
  }

  #tickFromTimer(): void {
    this.tick().catch((err: unknown) => {
      log.error('reload', 'config poll failed', { file: this.#opts.path, err })
    })
  }
}

/** Top-level YAML keys that need a restart and differ between two configs. */
export function listRestartChanges(running: RoxyConfig, loaded: RoxyConfig): string[] {
  return RESTART_KEYS.filter((key) => {
    const field = toFieldName(key) as keyof RoxyConfig
    return !Bun.deepEquals(running[field], loaded[field])
  })
}

/** `loaded` with every restart-only setting taken from `running`. */
export function keepRestartSettings(running: RoxyConfig, loaded: RoxyConfig): RoxyConfig {
  const merged: Record<string, unknown> = { ...loaded }
  for (const key of RESTART_KEYS) {
    const field = toFieldName(key)
    merged[field] = running[field as keyof RoxyConfig]
  }
  return merged as unknown as RoxyConfig
}

function isSame(read: Uint8Array | string, last: Uint8Array | string | undefined): boolean {
  if (typeof read === 'string' || typeof last === 'string' || last === undefined) {
    return read === last
  }
  return Buffer.from(read.buffer, read.byteOffset, read.byteLength).equals(last)
}

function readFailure(path: string, reason: string): ConfigError {
  const message = `cannot read the config file: ${reason}; keeping the running config`
  return new ConfigError([{ file: path, line: 1, col: 1, code: 'ROXY_E_CONFIG_READ', message }])
}
