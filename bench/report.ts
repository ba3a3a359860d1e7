/**
 * The markdown a bench run prints: medians per target, roxy's ratios against
 * Squid and direct, the targets, memory, every round, and the command that
 * reproduces it all.
 */
import { availableParallelism } from 'node:os'

/** One wrk run against one target. */
export interface Measurement {
  target: 'direct' | 'squid' | 'roxy' | 'bun-relay'
  round: number
  requests: number
  reqPerSec: number
  p99Ms: number
  /** CPU of the proxy's process group per request; none for direct. */
  proxyCpuUsPerReq: number | undefined
  /** The kernel's share of proxyCpuUsPerReq. */
  proxySysUsPerReq: number | undefined
  upstreamCpuUsPerReq: number
  wrkCpuUsPerReq: number
  /** Share of the machine's CPU (all cores) used by processes outside the bench during the run. */
  foreignCpuPct: number
  errors: number
}

/** RSS of one proxy, bytes: idle after start, peak (VmHWM), and after the settle wait. */
export interface MemoryRow {
  name: string
  idle: number
  peak: number
  after?: number
}

/** The subset of the bench options the report names. */
export interface ReportOptions {
  durationSec: number
  warmupSec: number
  rounds: number
  connections: number
  threads: number
  memory: boolean
  settleSec: number
  args: string[]
}

/** Targets from the issue: roxy at least 3× Squid's req/s, at most 25 µs CPU per request. */
export const TARGET_VS_SQUID = 3
export const TARGET_CPU_US = 25

interface Summary {
  reqPerSec: number
  p99Ms: number
  proxyCpuUsPerReq: number | undefined
  upstreamCpuUsPerReq: number
  errors: number
}

/** The median of a non-empty list (mean of the middle two for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) {
    return NaN
  }
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function summarize(results: Measurement[], target: Measurement['target']): Summary {
  const runs = results.filter((m) => m.target === target)
  const cpu = runs.map((m) => m.proxyCpuUsPerReq).filter((v): v is number => v !== undefined)
  return {
    reqPerSec: median(runs.map((m) => m.reqPerSec)),
    p99Ms: median(runs.map((m) => m.p99Ms)),
    proxyCpuUsPerReq: cpu.length > 0 ? median(cpu) : undefined,
    upstreamCpuUsPerReq: median(runs.map((m) => m.upstreamCpuUsPerReq)),
    errors: runs.reduce((sum, m) => sum + m.errors, 0),
  }
}

const LABELS: Record<Measurement['target'], string> = {
  direct: 'direct (no proxy)',
  squid: 'Squid',
  roxy: 'roxy',
  'bun-relay': 'Bun socket relay (floor, not a proxy)',
}

/** The whole report, markdown. */
export function formatReport(
  options: ReportOptions,
  results: Measurement[],
  memory: MemoryRow[],
  upstream: string,
): string {
  const s = {
    direct: summarize(results, 'direct'),
    squid: summarize(results, 'squid'),
    roxy: summarize(results, 'roxy'),
    'bun-relay': summarize(results, 'bun-relay'),
  }
  return [
    formatConditions(options, upstream, results),
    formatMedians(s),
    formatRatios(s),
    formatTargets(s),
    formatMemory(options, memory),
    formatRounds(results),
    formatCommand(options),
  ].join('\n')
}

function formatConditions(
  options: ReportOptions,
  upstream: string,
  results: Measurement[],
): string {
  const foreign = results.map((m) => m.foreignCpuPct)
  const load = `CPU used by other processes on the machine during the runs: median ${median(foreign).toFixed(0)} %, max ${Math.max(...foreign).toFixed(0)} % of all cores.`
  return `### Conditions

${availableParallelism()} CPUs, ${new Date().toISOString().slice(0, 10)}; wrk ${options.threads} threads, ${options.connections} keep-alive connections, ${options.durationSec} s per run after a ${options.warmupSec} s warm-up per target, ${options.rounds} interleaved rounds, medians shown. Upstream: ${upstream}; 2-byte body. Proxies get absolute-form requests (\`GET http://127.0.0.1:PORT/\`); roxy logs every request at info (stdout to a file), Squid writes its default access log. CPU = utime + stime of the proxy's processes over the run ÷ requests. ${load}
`
}

function formatMedians(s: Record<Measurement['target'], Summary>): string {
  const names = (['direct', 'squid', 'roxy', 'bun-relay'] as const).filter(
    (name) => !Number.isNaN(s[name].reqPerSec),
  )
  const rows = names.map((name) => {
    const m = s[name]
    const cpu = m.proxyCpuUsPerReq === undefined ? '—' : m.proxyCpuUsPerReq.toFixed(1)
    return `| ${LABELS[name]} | ${formatInt(m.reqPerSec)} | ${m.p99Ms.toFixed(2)} | ${cpu} | ${m.upstreamCpuUsPerReq.toFixed(1)} | ${m.errors} |`
  })
  return `### Throughput, latency, CPU (median of rounds)

| target | req/s | p99 latency (ms) | proxy CPU µs/req | upstream CPU µs/req | errors |
|---|--:|--:|--:|--:|--:|
${rows.join('\n')}
`
}

function formatRatios(s: Record<Measurement['target'], Summary>): string {
  const { roxy, squid, direct } = s
  const cpuRatio =
    roxy.proxyCpuUsPerReq !== undefined && squid.proxyCpuUsPerReq !== undefined
      ? `${ratio(roxy.proxyCpuUsPerReq, squid.proxyCpuUsPerReq)}`
      : '—'
  return `### roxy relative to the others

| roxy vs | req/s | p99 latency | proxy CPU per request |
|---|--:|--:|--:|
| Squid | ${ratio(roxy.reqPerSec, squid.reqPerSec)} | ${ratio(roxy.p99Ms, squid.p99Ms)} | ${cpuRatio} |
| direct | ${ratio(roxy.reqPerSec, direct.reqPerSec)} | ${ratio(roxy.p99Ms, direct.p99Ms)} | — |
${formatFloorRatio(roxy, s['bun-relay'])}
(Squid vs direct: ${ratio(squid.reqPerSec, direct.reqPerSec)} req/s.)
`
}

function formatFloorRatio(roxy: Summary, floor: Summary): string {
  if (Number.isNaN(floor.reqPerSec) || floor.proxyCpuUsPerReq === undefined) {
    return ''
  }
  const cpu =
    roxy.proxyCpuUsPerReq === undefined ? '—' : ratio(roxy.proxyCpuUsPerReq, floor.proxyCpuUsPerReq)
  return `| Bun socket relay (floor) | ${ratio(roxy.reqPerSec, floor.reqPerSec)} | ${ratio(roxy.p99Ms, floor.p99Ms)} | ${cpu} |\n`
}

function formatTargets(s: Record<Measurement['target'], Summary>): string {
  const vsSquid = s.roxy.reqPerSec / s.squid.reqPerSec
  const cpu = s.roxy.proxyCpuUsPerReq ?? Infinity
  const verdict = (ok: boolean) => (ok ? 'met' : '**not met**')
  return `### Targets

| target | measured | |
|---|--:|---|
| roxy req/s ≥ ${TARGET_VS_SQUID}× Squid | ${vsSquid.toFixed(2)}× | ${verdict(vsSquid >= TARGET_VS_SQUID)} |
| roxy CPU ≤ ${TARGET_CPU_US} µs/request | ${cpu.toFixed(1)} µs | ${verdict(cpu <= TARGET_CPU_US)} |
`
}

function formatMemory(options: ReportOptions, rows: MemoryRow[]): string {
  const lines = rows.map((row) => {
    const after = row.after === undefined ? 'not measured (`--memory`)' : formatMiB(row.after)
    return `| ${row.name} | ${formatMiB(row.idle)} | ${formatMiB(row.peak)} | ${after} |`
  })
  return `### Memory (RSS of all the proxy's processes)

| proxy | RSS idle | RSS peak under load | RSS ${options.settleSec} s after load |
|---|--:|--:|--:|
${lines.join('\n')}
`
}

function formatRounds(results: Measurement[]): string {
  const lines = results.map((m) => {
    const cpu =
      m.proxyCpuUsPerReq === undefined
        ? '—'
        : `${m.proxyCpuUsPerReq.toFixed(1)} (${m.proxySysUsPerReq!.toFixed(1)} sys)`
    return `| ${m.round} | ${m.target} | ${formatInt(m.requests)} | ${formatInt(m.reqPerSec)} | ${m.p99Ms.toFixed(2)} | ${cpu} | ${m.upstreamCpuUsPerReq.toFixed(1)} | ${m.wrkCpuUsPerReq.toFixed(1)} | ${m.foreignCpuPct.toFixed(0)} % | ${m.errors} |`
  })
  return `### Every run

"Other load" is the share of the machine's CPU (all cores) used during the run by processes that are not part of the bench; above a few percent, req/s and latency are understated.

| round | target | requests | req/s | p99 (ms) | proxy CPU µs/req (of which kernel) | upstream µs/req | wrk µs/req | other load | errors |
|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|
${lines.join('\n')}
`
}

function formatCommand(options: ReportOptions): string {
  const args = options.args.join(' ')
  const command = args ? `make bench ARGS="${args}"` : 'make bench'
  return `Reproduce: \`${command}\` (or \`bash bench/run.sh ${args}\`).
`
}

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}×` : '—'
}

function formatInt(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
