/**
 * Prometheus text for the metrics path and the figures of the periodic
 * runtime line (SPEC §8). Imports nothing of the domain: the proxy reports
 * finished requests with plain strings, gauges come from a callback.
 *
 * Per request the cost is two Map look-ups and a few typed-array writes:
 *
 *   #counts: rule ─▶ action ─▶ Float64Array[1]       (no key string built)
 *   #buckets: Float64Array[BUCKETS.length + 1]       (last slot = +Inf)
 */
import { heapStats } from 'bun:jsc'

/** Upper bounds of the latency buckets, in seconds. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export interface GaugeSnapshot {
  openConnections: number
  inFlight: number
  certCacheEntries: number
  counterKeys: number
  upstreamIdle: number
}

export class Metrics {
  #counts = new Map<string, Map<string, Float64Array>>()
  #buckets = new Float64Array(BUCKETS.length + 1)
  #sum = 0
  #count = 0
  #gauges: () => GaugeSnapshot
  #loopDelayMs = 0
  #loopTimer: ReturnType<typeof setInterval> | undefined

  constructor(gauges: () => GaugeSnapshot) {
    this.#gauges = gauges
  }

  /** Record one finished request. `rule` is '' when no rule decided. */
  observe(rule: string, action: string, durationMs: number): void {
    let byAction = this.#counts.get(rule)
    if (!byAction) {
      byAction = new Map()
      this.#counts.set(rule, byAction)
    }
    let cell = byAction.get(action)
    if (!cell) {
      cell = new Float64Array(1)
      byAction.set(action, cell)
    }
    cell[0]++
    const seconds = durationMs / 1000
    let i = 0
    while (i < BUCKETS.length && seconds > BUCKETS[i]) {
      i++
    }
    this.#buckets[i]++
    this.#sum += seconds
    this.#count++
  }

  /** Sample event-loop delay: how late a 500 ms timer fires. */
  startLoopMonitor(): void {
    const period = 500
    let expected = performance.now() + period
    this.#loopTimer = setInterval(() => {
      const now = performance.now()
      this.#loopDelayMs = Math.max(0, now - expected)
      expected = now + period
    }, period)
    this.#loopTimer.unref?.()
  }

  stop(): void {
    clearInterval(this.#loopTimer)
  }

  /** The figures of the `runtime_metrics` log line. */
  runtimeFields(): Record<string, number> {
    const g = this.#gauges()
    const mem = process.memoryUsage()
    return {
      open_connections: g.openConnections,
      in_flight: g.inFlight,
      cert_cache: g.certCacheEntries,
      counter_keys: g.counterKeys,
      upstream_idle: g.upstreamIdle,
      rss_bytes: mem.rss,
      heap_bytes: heapStats().heapSize,
      event_loop_delay_ms: Math.round(this.#loopDelayMs * 10) / 10,
    }
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const g = this.#gauges()
    const lines: string[] = []
    const gauge = (name: string, help: string, value: number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`)
    }
    gauge('roxy_open_connections', 'Client connections open now.', g.openConnections)
    gauge('roxy_in_flight_requests', 'Requests being served now.', g.inFlight)
    gauge('roxy_cert_cache_entries', 'Leaf certificates in the cache.', g.certCacheEntries)
    gauge('roxy_limit_counter_keys', 'Live rate-limit and credit keys.', g.counterKeys)
    gauge('roxy_upstream_idle_connections', 'Idle pooled upstream connections.', g.upstreamIdle)
    gauge('process_resident_memory_bytes', 'Resident set size.', process.memoryUsage().rss)
    gauge('roxy_heap_bytes', 'JavaScript heap size.', heapStats().heapSize)
    gauge(
      'roxy_event_loop_delay_seconds',
      'Last measured event-loop delay.',
      this.#loopDelayMs / 1000,
    )
    lines.push(
      '# HELP roxy_requests_total Finished requests by deciding rule and action.',
      '# TYPE roxy_requests_total counter',
    )
    for (const [rule, byAction] of this.#counts) {
      for (const [action, cell] of byAction) {
        lines.push(`roxy_requests_total{rule="${escapeLabel(rule)}",action="${action}"} ${cell[0]}`)
      }
    }
    lines.push(
      '# HELP roxy_request_duration_seconds Time from request head to the end of the response.',
      '# TYPE roxy_request_duration_seconds histogram',
    )
    let cumulative = 0
    for (let i = 0; i < BUCKETS.length; i++) {
      cumulative += this.#buckets[i]
      lines.push(`roxy_request_duration_seconds_bucket{le="${BUCKETS[i]}"} ${cumulative}`)
    }
    cumulative += this.#buckets[BUCKETS.length]
    lines.push(
      `roxy_request_duration_seconds_bucket{le="+Inf"} ${cumulative}`,
      `roxy_request_duration_seconds_sum ${this.#sum}`,
      `roxy_request_duration_seconds_count ${this.#count}`,
    )
    return lines.join('\n') + '\n'
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}
