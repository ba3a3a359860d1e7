/**
 * Start-up and life of a running proxy: builds the server from a config
 * snapshot, wires metrics, the periodic runtime line and hot reload, and
 * stops everything in order.
 *
 * Reload swaps one reference per concern (SPEC §7): the server's policy and
 * routing. Counters live outside the snapshot, so they survive.
 */
import { rmSync } from 'node:fs'
import { dirname } from 'node:path'
import type { ConfigError } from '../errors.ts'
import { formatProblem } from '../errors.ts'
import {
  ConfigWatcher,
  formatListenAddress,
  type LoadOptions,
  type ReloadResult,
  type RoxyConfig,
} from '../config/index.ts'
import { LimitsEngine, openCreditStore, startLimitsTimers } from '../limits/index.ts'
import { log } from '../observe/log.ts'
import { Metrics } from '../observe/metrics.ts'
import { RulePolicy } from '../pipeline/rule-policy.ts'
import { MitmInterceptor } from '../proxy/mitm.ts'
import { ProxyServer } from '../proxy/server.ts'
import { IdleDetector } from './idle-detector.ts'
import { releaseCodePages } from './release-code-pages.ts'
import { serverOptionsOf } from './server-options.ts'
import { setUpTls, type TlsSetup } from './tls-setup.ts'

export interface ProxyAppOptions {
  config: RoxyConfig
  /** The config file, when there is one (reload watches it). */
  path?: string
  bytes?: Uint8Array
  loadOptions: LoadOptions
}

export class ProxyApp {
  readonly server: ProxyServer
  readonly metrics: Metrics
  /** Counters outlive config snapshots: one engine for the life of the process. */
  readonly limits: LimitsEngine
  readonly tls: TlsSetup
  #stopLimitsTimers: (() => void) | undefined
  #options: ProxyAppOptions
  #watcher: ConfigWatcher | undefined
  #runtimeTimer: ReturnType<typeof setInterval> | undefined
  #idleTrim: IdleDetector | undefined

  constructor(options: ProxyAppOptions) {
    this.#options = options
    const config = options.config
    this.tls = setUpTls(config)
    this.limits = new LimitsEngine()
    const policy = this.#buildPolicy(config)
    this.metrics = new Metrics(() => ({
      openConnections: this.server.stats.openConnections,
      inFlight: this.server.stats.inFlight,
      certCacheEntries: this.tls.certs.size,
      counterKeys: this.#counterKeys(),
      upstreamIdle: this.server.poolSize,
    }))
    this.server = new ProxyServer({
      ...serverOptionsOf(config),
      upstreamTls: this.tls.upstreamTls,
      interceptor: (ctx) =>
        new MitmInterceptor(
          this.tls.certs,
          config.serverTimeouts.tlsHandshakeTimeoutSecs * 1000,
          ctx,
        ),
      policy,
      observer: this.metrics,
      routes: {
        '/ca.pem': () => ({
          status: 200,
          contentType: 'application/x-pem-file',
          body: this.tls.ca.certPem,
        }),
        [config.metrics.path]: () => ({
          status: 200,
          contentType: 'text/plain; version=0.0.4; charset=utf-8',
          body: this.metrics.render(),
        }),
      },
    })
  }

  /** Listen, then start the timers. Throws `ROXY_E_LISTEN` when the port is taken. */
  start(): void {
    const config = this.#options.config
    this.server.start()
    const address = formatListenAddress({ host: config.listen.host, port: this.server.port })
    log.info('proxy', 'listening', { address, config: this.#options.path ?? 'built-in default' })
    this.metrics.startLoopMonitor()
    this.#startIdleTrim()
    this.#stopLimitsTimers = startLimitsTimers(this.limits, {
      cleanupIntervalSecs: config.rateLimit.cleanupIntervalSecs,
    })
    if (config.runtimeMetrics.intervalSecs > 0) {
      this.#runtimeTimer = setInterval(
        () => log.info('runtime', 'metrics', this.metrics.runtimeFields()),
        config.runtimeMetrics.intervalSecs * 1000,
      )
    }
    if (this.#options.path) {
      this.#watcher = new ConfigWatcher({
        ...this.#options.loadOptions,
        path: this.#options.path,
        current: config,
        bytes: this.#options.bytes,
        onValid: (result) => this.#applyReload(result),
        onInvalid: (error) => this.#rejectReload(error),
      })
      if (config.reloadIntervalSecs > 0) {
        this.#watcher.start()
      }
    }
  }

  /** SIGHUP: read the file now. */
  async reloadNow(): Promise<void> {
    if (!this.#watcher) {
      log.warn('reload', 'no config file to reload (running on the built-in default)')
      return
    }
    const outcome = await this.#watcher.reloadNow()
    if (outcome === 'unchanged') {
      log.info('reload', 'config unchanged', { file: this.#options.path })
    }
  }

  async stop(): Promise<void> {
    this.#watcher?.stop()
    clearInterval(this.#runtimeTimer)
    this.#idleTrim?.stop()
    this.metrics.stop()
    await this.server.stop(this.#options.config.shutdownGraceSecs * 1000)
    this.#stopLimitsTimers?.()
    if (this.tls.ca.ephemeral) {
      // The ephemeral CA dies with the process: leave no file behind.
      rmSync(dirname(this.tls.ca.certPath), { recursive: true, force: true })
    }
    try {
      this.limits.close()
    } catch (err) {
      log.error('credit', 'could not save credit balances at shutdown', { error: err })
    }
  }

  /**
   * The policy of one snapshot. The credit store is opened the first time a
   * snapshot has a credit rule: a config without credits never needs
   * `state.path` to be writable. Throws `ROXY_E_STATE_STORE` when it cannot open.
   */
  #buildPolicy(config: RoxyConfig): RulePolicy {
    const policy = new RulePolicy(config, this.limits)
    if (policy.hasCredits && !this.limits.hasStore) {
      this.limits.attachStore(openCreditStore(config.state.path))
    }
    return policy
  }

  /**
   * Ten seconds after the last finished request (or after start-up), unmap
   * the executable's clean pages, once per quiet spell: RSS 30 s after load
   * 55.6 → 37.6 MB, idle 46.5 → 26.9 MB (docs/memory.md). The cost on the
   * hot path is nil: the detector reads the request counter once a second.
   * `ROXY_IDLE_TRIM=off` turns it off.
   */
  #startIdleTrim(): void {
    if (process.env.ROXY_IDLE_TRIM === 'off') {
      return
    }
    this.#idleTrim = new IdleDetector({
      readCount: () => this.server.stats.requests,
      onIdle: () => {
        const outcome = releaseCodePages()
        log.debug('runtime', 'released code pages', {
          releasedKb: outcome.releasedKb,
          ms: Math.round(outcome.ms),
        })
      },
    })
    this.#idleTrim.start()
  }

  #counterKeys(): number {
    const stats = this.limits.stats()
    return stats.rateKeys + stats.creditKeys
  }

  #applyReload(result: ReloadResult): void {
    const config = result.config
    let policy: RulePolicy
    try {
      policy = this.#buildPolicy(config)
    } catch (err) {
      log.error('reload', 'config rejected; keeping the running config', {
        file: this.#options.path,
        error: err,
      })
      return
    }
    this.server.setPolicy(policy)
    this.server.setRouting(
      config.resolve.map((entry) => [entry.glob, entry.address] as const),
      config.mitm.bypass,
    )
    this.#options.config = config
    log.info('reload', 'config applied', {
      file: this.#options.path,
      rules: config.rules.length,
      warnings: result.warnings.length > 0 ? result.warnings : undefined,
    })
    if (result.restartNeeded.length > 0) {
      log.warn('reload', 'settings changed that need a restart', { keys: result.restartNeeded })
    }
  }

  #rejectReload(error: ConfigError): void {
    log.error('reload', 'config rejected; keeping the running config', {
      file: this.#options.path,
      errors: error.problems.map(formatProblem),
    })
  }
}
