/**
 * The markdown bench/tls-run.ts prints: keep-alive HTTPS medians per proxy, the extra
 * time of a first request to a new host, roxy's ratios and targets, every run, and the
 * command that reproduces it.
 */
import { availableParallelism } from 'node:os'
import { median } from './report.ts'
import type { NewHostsResult } from './tls-client.ts'

/** The proxies compared, in the order tables list them. */
export const PROXY_NAMES = ['roxy', 'http-mitm-proxy', 'mitmproxy'] as const
export type ProxyName = (typeof PROXY_NAMES)[number]

/** One load run of the client through one proxy. */
export interface TlsMeasurement {
  proxy: ProxyName
  round: number
  requests: number
  reqPerSec: number
  p50Ms: number
  p99Ms: number
  /** User + system CPU of the proxy's process group per request. */
  proxyCpuUsPerReq: number
  /** The kernel's share of proxyCpuUsPerReq. */
  proxySysUsPerReq: number
  originCpuUsPerReq: number
  clientCpuUsPerReq: number
  /** The client's CPU over the run as a share of one core (100 = saturated). */
  clientCorePct: number
  /** Share of the machine's CPU (all cores) used by processes outside the bench. */
  foreignCpuPct: number
  errors: number
  firstProblem?: string
}

/** The subset of the options the report names. */
export interface TlsReportOptions {
  durationSec: number
  warmupSec: number
  rounds: number
  connections: number
  newHosts: number
  proxies: ProxyName[]
  args: string[]
  /** Tool versions, one phrase. */
  versions: string
}

/** Targets from issue 3 for roxy. */
export const TARGET_VS_HTTP_MITM_PROXY = 2.5
export const TARGET_CPU_US = 60
export const TARGET_NEW_HOST_MS = 1.5

/** A client at or above this share of its core may be the bottleneck. */
const CLIENT_BUSY_PCT = 90

interface Summary {
  reqPerSec: number
  p50Ms: number
  p99Ms: number
  cpuUs: number
  sysUs: number
  clientPct: number
  errors: number
  /** ms: medians of new-name and issued-name first requests, median of their differences. */
  newMs: number
  issuedMs: number
  extraMs: number
  /** Medians of the per-pair differences of each phase: CONNECT, handshake, GET. */
  extraPhasesMs: number[]
}

function summarize(
  results: TlsMeasurement[],
  issuance: NewHostsResult | undefined,
  proxy: ProxyName,
): Summary {
  const runs = results.filter((m) => m.proxy === proxy)
  const pick = (field: keyof TlsMeasurement) => median(runs.map((m) => m[field] as number))
  const extras = issuance ? issuance.newMs.map((ms, i) => ms - issuance.issuedMs[i]) : []
  return {
    reqPerSec: pick('reqPerSec'),
    p50Ms: pick('p50Ms'),
    p99Ms: pick('p99Ms'),
    cpuUs: pick('proxyCpuUsPerReq'),
    sysUs: pick('proxySysUsPerReq'),
    clientPct: pick('clientCorePct'),
    errors: runs.reduce((sum, m) => sum + m.errors, 0),
    newMs: median(issuance?.newMs ?? []),
    issuedMs: median(issuance?.issuedMs ?? []),
    extraMs: median(extras),
    extraPhasesMs: [0, 1, 2].map((phase) =>
      median(issuance?.newPhases.map((p, i) => p[phase] - issuance.issuedPhases[i][phase]) ?? []),
    ),
  }
}

/** The whole report, markdown. */
export function formatTlsReport(
  options: TlsReportOptions,
  results: TlsMeasurement[],
  issuance: Map<ProxyName, NewHostsResult>,
): string {
  const names = PROXY_NAMES.filter((name) => options.proxies.includes(name))
  const s = new Map(names.map((name) => [name, summarize(results, issuance.get(name), name)]))
  const loaded = results.length > 0
  return [
    formatConditions(options, results),
    loaded ? formatMedians(s) : '',
    formatNewHosts(options, s),
    formatRatios(s),
    formatTargets(s),
    loaded ? formatRounds(results) : '',
    formatCommand(options),
  ]
    .filter(Boolean)
    .join('\n')
}

function formatConditions(options: TlsReportOptions, results: TlsMeasurement[]): string {
  const foreign = results.map((m) => m.foreignCpuPct)
  const otherLoad =
    foreign.length === 0
      ? ''
      : ` Other processes on the machine used a median ${median(foreign).toFixed(0)} % (max ${Math.max(...foreign).toFixed(0)} %) of all cores during the runs.`
  const busy = results.filter((m) => m.clientCorePct >= CLIENT_BUSY_PCT)
  const clientNote =
    busy.length > 0
      ? ` **The client used ≥ ${CLIENT_BUSY_PCT} % of its core in ${busy.length} run(s)**: it may have been the bottleneck there; compare the proxies with each other.`
      : ` The client stayed below ${CLIENT_BUSY_PCT} % of its core in every run (it was not the bottleneck).`
  return `### Conditions

${availableParallelism()} CPUs, ${new Date().toISOString().slice(0, 10)}; ${options.versions}. Client: bench/tls-client.ts, ${options.connections} CONNECT tunnels with TLS inside, keep-alive \`GET /\`, one request in flight per tunnel, every response checked (200, body \`ok\`); ${options.durationSec} s per run after a ${options.warmupSec} s warm-up per proxy, ${options.rounds} interleaved rounds, medians shown. Origin: nginx, 1 worker, HTTPS with one EC P-256 certificate per host name, \`return 200 'ok'\`. CPU = utime + stime of the proxy's processes over the run ÷ responses.${otherLoad}${clientNote}
`
}

function formatMedians(s: Map<ProxyName, Summary>): string {
  const rows = [...s].map(([name, m]) => {
    const bold = name === 'roxy' ? '**' : ''
    return `| ${bold}${name}${bold} | ${bold}${formatInt(m.reqPerSec)}${bold} | ${m.p50Ms.toFixed(2)} ms | ${m.p99Ms.toFixed(2)} ms | ${bold}${m.cpuUs.toFixed(1)} µs${bold} (${m.sysUs.toFixed(1)} kernel) | ${m.clientPct.toFixed(0)} % | ${m.errors} |`
  })
  return `### Keep-alive HTTPS through the proxy

| proxy | req/s | p50 latency | p99 latency | proxy CPU per request | client CPU (share of a core) | errors |
|---|--:|--:|--:|--:|--:|--:|
${rows.join('\n')}
`
}

function formatNewHosts(options: TlsReportOptions, s: Map<ProxyName, Summary>): string {
  const rows = [...s].map(([name, m]) => {
    const bold = name === 'roxy' ? '**' : ''
    const phases = m.extraPhasesMs.map((ms) => `${ms.toFixed(2)}`).join(' / ')
    return `| ${bold}${name}${bold} | ${m.newMs.toFixed(2)} ms | ${m.issuedMs.toFixed(2)} ms | ${bold}${m.extraMs.toFixed(2)} ms${bold} | ${phases} ms |`
  })
  return `### First request to a new host

A fresh tunnel (TCP connect, CONNECT, TLS handshake, one \`GET\`) to each of ${options.newHosts} names the proxy has not seen, each followed by one to a name it has already issued a certificate for; no other load. Medians over the ${options.newHosts} pairs; the last column splits the difference by phase (median per phase, so the parts need not add up exactly): until the proxy's \`200\` to CONNECT, the TLS handshake inside the tunnel (where the proxy presents the new certificate), and the \`GET\` until its response (where a proxy that pools origin connections per host has to dial a new host).

| proxy | first request, new name | first request, issued name | extra per new host (median of differences) | of which CONNECT / TLS handshake / GET |
|---|--:|--:|--:|--:|
${rows.join('\n')}
`
}

function formatRatios(s: Map<ProxyName, Summary>): string {
  const roxy = s.get('roxy')
  if (!roxy) {
    return ''
  }
  const rows = [...s]
    .filter(([name]) => name !== 'roxy')
    .map(
      ([name, m]) =>
        `| ${name} | ${ratio(roxy.reqPerSec, m.reqPerSec)} | ${ratio(roxy.cpuUs, m.cpuUs)} | ${ratio(roxy.extraMs, m.extraMs)} |`,
    )
  if (rows.length === 0) {
    return ''
  }
  return `| roxy vs | req/s | CPU per request | extra per new host |
|---|--:|--:|--:|
${rows.join('\n')}
`
}

function formatTargets(s: Map<ProxyName, Summary>): string {
  const roxy = s.get('roxy')
  if (!roxy) {
    return ''
  }
  const verdict = (ok: boolean) => (ok ? 'met' : '**not met**')
  const lines: string[] = []
  const hmp = s.get('http-mitm-proxy')
  const loaded = !Number.isNaN(roxy.reqPerSec)
  if (hmp && loaded) {
    const x = roxy.reqPerSec / hmp.reqPerSec
    lines.push(
      `| roxy req/s ≥ ${TARGET_VS_HTTP_MITM_PROXY}× http-mitm-proxy | ${x.toFixed(2)}× | ${verdict(x >= TARGET_VS_HTTP_MITM_PROXY)} |`,
    )
  }
  if (loaded) {
    lines.push(
      `| roxy CPU ≤ ${TARGET_CPU_US} µs per request | ${roxy.cpuUs.toFixed(1)} µs | ${verdict(roxy.cpuUs <= TARGET_CPU_US)} |`,
    )
  }
  lines.push(
    `| roxy extra per new host ≤ ${TARGET_NEW_HOST_MS} ms | ${roxy.extraMs.toFixed(2)} ms | ${verdict(roxy.extraMs <= TARGET_NEW_HOST_MS)} |`,
  )
  return `| target | measured | |
|---|--:|---|
${lines.join('\n')}
`
}

function formatRounds(results: TlsMeasurement[]): string {
  const lines = results.map(
    (m) =>
      `| ${m.round} | ${m.proxy} | ${formatInt(m.requests)} | ${formatInt(m.reqPerSec)} | ${m.p99Ms.toFixed(2)} | ${m.proxyCpuUsPerReq.toFixed(1)} (${m.proxySysUsPerReq.toFixed(1)} sys) | ${m.originCpuUsPerReq.toFixed(1)} | ${m.clientCpuUsPerReq.toFixed(1)} (${m.clientCorePct.toFixed(0)} %) | ${m.foreignCpuPct.toFixed(0)} % | ${m.errors}${m.firstProblem ? ` (${m.firstProblem})` : ''} |`,
  )
  return `### Every run

| round | proxy | requests | req/s | p99 (ms) | proxy CPU µs/req | origin µs/req | client µs/req (share of a core) | other load | errors |
|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|
${lines.join('\n')}
`
}

function formatCommand(options: TlsReportOptions): string {
  const args = options.args.join(' ')
  const command = args ? `make bench-tls ARGS="${args}"` : 'make bench-tls'
  return `Reproduce: \`${command}\` (or \`${['bash bench/tls-run.sh', ...options.args].join(' ')}\`).
`
}

function ratio(a: number, b: number): string {
  return b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—'
}

function formatInt(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}
