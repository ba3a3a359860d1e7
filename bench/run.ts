/**
 * Load benchmark: wrk through roxy, through Squid, and straight at the
 * upstream, interleaved round by round, medians reported as a markdown table.
 * Started by bench/run.sh (which installs the tools and owns the temp dir and
 * the kill-everything trap); see docs/bench.md.
 *
 * Per run and target: req/s and p99 latency from wrk, and the proxy's CPU
 * time per request: utime + stime of its whole process group (/proc) over
 * the run, divided by the requests wrk completed.
 */
import { finishRoxyOptions, readPositive } from './bench-args.ts'
import { join } from 'node:path'
import { readdirSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { readGroupCpu, readGroupCpuUs, readGroupMemory, readMachineBusyUs } from './proc-stats.ts'
import { summarizeProfile } from './cpu-prof-top.ts'
import { formatReport, type Measurement, type MemoryRow } from './report.ts'
import {
  startBunRelay,
  startBunUpstream,
  startNginx,
  startRoxy,
  startSquid,
  type Service,
  type Workspace,
} from './services.ts'

export interface BenchOptions {
  durationSec: number
  warmupSec: number
  rounds: number
  connections: number
  threads: number
  upstream: 'nginx' | 'bun'
  memory: boolean
  /** Also measure bench/bun-relay.ts, the floor for any proxy on Bun sockets. */
  floor: boolean
  settleSec: number
  roxyCommand: string[]
  maxIdlePerHost: number
  cpuProfDir: string
  workdir: string
  /** The options as given, to print the command that reproduces the table. */
  args: string[]
}

const USAGE = `usage: bash bench/run.sh [options]
  --duration S       seconds per measured run (default 10)
  --warmup S         unmeasured seconds per target before round 1 (default 2)
  --rounds N         interleaved rounds; the median is reported (default 3)
  --connections N    wrk connections (default 32)
  --threads N        wrk threads (default 2)
  --upstream KIND    nginx (default) or bun
  --memory           also measure roxy's RSS 30 s after the load (adds 30 s)
  --floor            also measure bench/bun-relay.ts: a bare Bun socket relay, the
                     floor for any proxy on Bun (not a proxy; adds a target)
  --roxy-bin PATH    a built roxy (dist/roxy) instead of bun src/main.ts
  --max-idle N       roxy pool.max_idle_per_host (default 10, roxy's default)
  --cpu-prof DIR     run roxy under bun --cpu-prof --cpu-prof-md, profile into DIR
                     (written when roxy stops; the profiler slows roxy down)
`

function parseArgs(argv: string[]): BenchOptions {
  const options: BenchOptions = {
    durationSec: 10,
    warmupSec: 2,
    rounds: 3,
    connections: 32,
    threads: 2,
    upstream: 'nginx',
    memory: false,
    floor: false,
    settleSec: 30,
    roxyCommand: [process.execPath, join(import.meta.dir, '..', 'src', 'main.ts')],
    maxIdlePerHost: 10,
    cpuProfDir: '',
    workdir: '',
    args: argv.filter((arg, i) => arg !== '--workdir' && argv[i - 1] !== '--workdir'),
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const next = () => {
      const value = argv[++i]
      if (value === undefined) {
        throw new Error(`${flag} needs a value\n${USAGE}`)
      }
      return value
    }
    switch (flag) {
      case '--duration':
        options.durationSec = readPositive(flag, next())
        break
      case '--warmup':
        options.warmupSec = readPositive(flag, next(), true)
        break
      case '--rounds':
        options.rounds = readPositive(flag, next())
        break
      case '--connections':
        options.connections = readPositive(flag, next())
        break
      case '--threads':
        options.threads = readPositive(flag, next())
        break
      case '--upstream': {
        const kind = next()
        if (kind !== 'nginx' && kind !== 'bun') {
          throw new Error(`--upstream must be nginx or bun\n${USAGE}`)
        }
        options.upstream = kind
        break
      }
      case '--memory':
        options.memory = true
        break
      case '--floor':
        options.floor = true
        break
      case '--roxy-bin':
        options.roxyCommand = [next()]
        break
      case '--cpu-prof':
        options.cpuProfDir = next()
        break
      case '--max-idle':
        options.maxIdlePerHost = readPositive(flag, next(), true)
        break
      case '--workdir':
        options.workdir = next()
        break
      case '-h':
      case '--help':
        process.stdout.write(USAGE)
        process.exit(0)
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`)
    }
  }
  return finishRoxyOptions(options, 'bench/run.sh')
}

/** What wrk's done() in wrk-report.lua prints. */
interface WrkSummary {
  /** CPU wrk itself used (from its rusage), µs; added by runWrk. */
  wrkCpuUs: number
  requests: number
  duration_us: number
  p50_us: number
  p99_us: number
  connect_errors: number
  read_errors: number
  write_errors: number
  status_errors: number
  timeouts: number
}

/** One target of the comparison: where wrk connects and which group is "the proxy". */
interface Target {
  name: Measurement['target']
  port: number
  absoluteForm: boolean
  proxy?: Service
}

async function runWrk(
  options: BenchOptions,
  target: Target,
  upstreamPort: number,
  seconds: number,
): Promise<WrkSummary> {
  const cmd = [
    'wrk',
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${seconds}s`,
    '--timeout',
    '5s',
    '-s',
    join(import.meta.dir, 'wrk-report.lua'),
    `http://127.0.0.1:${target.port}/`,
  ]
  const env = { ...process.env, BENCH_TARGET: '' }
  if (target.absoluteForm) {
    env.BENCH_TARGET = `http://127.0.0.1:${upstreamPort}/`
  }
  const proc = Bun.spawn(cmd, { env, stdout: 'pipe', stderr: 'pipe' })
  running.wrk = proc
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  running.wrk = undefined
  const line = out.split('\n').findLast((l) => l.startsWith('{'))
  if (code !== 0 || !line) {
    throw new Error(`wrk failed (exit ${code}) against ${target.name}:\n${out}${err}`)
  }
  const usage = proc.resourceUsage()
  return { ...JSON.parse(line), wrkCpuUs: usage ? Number(usage.cpuTime.total) : 0 } as WrkSummary
}

async function measure(
  options: BenchOptions,
  target: Target,
  upstream: Service,
  round: number,
): Promise<Measurement> {
  const proxyBefore = target.proxy ? readGroupCpu(target.proxy.pgid) : undefined
  const upstreamBefore = readGroupCpuUs(upstream.pgid)
  const machineBefore = readMachineBusyUs()
  const wrk = await runWrk(options, target, upstream.port, options.durationSec)
  const machineUs = readMachineBusyUs() - machineBefore
  const proxyAfter = target.proxy ? readGroupCpu(target.proxy.pgid) : undefined
  const proxySysUs =
    proxyAfter && proxyBefore ? proxyAfter.systemUs - proxyBefore.systemUs : undefined
  const proxyCpuUs =
    proxyAfter && proxyBefore ? proxyAfter.userUs - proxyBefore.userUs + proxySysUs! : undefined
  const upstreamCpuUs = readGroupCpuUs(upstream.pgid) - upstreamBefore
  // CPU that neither wrk, the upstream nor the proxy used: other tenants of the machine.
  const foreignUs = machineUs - wrk.wrkCpuUs - upstreamCpuUs - (proxyCpuUs ?? 0)
  const capacityUs = wrk.duration_us * availableParallelism()
  const errors =
    wrk.connect_errors + wrk.read_errors + wrk.write_errors + wrk.status_errors + wrk.timeouts
  return {
    target: target.name,
    round,
    requests: wrk.requests,
    reqPerSec: wrk.requests / (wrk.duration_us / 1e6),
    p99Ms: wrk.p99_us / 1000,
    proxyCpuUsPerReq: proxyCpuUs === undefined ? undefined : proxyCpuUs / wrk.requests,
    proxySysUsPerReq: proxySysUs === undefined ? undefined : proxySysUs / wrk.requests,
    upstreamCpuUsPerReq: upstreamCpuUs / wrk.requests,
    wrkCpuUsPerReq: wrk.wrkCpuUs / wrk.requests,
    foreignCpuPct: Math.max(0, (100 * foreignUs) / capacityUs),
    errors,
  }
}

/** Rotate the order each round so drift (other load, heat) does not favour one target. */
function orderForRound(targets: Target[], round: number): Target[] {
  const shift = round % targets.length
  return [...targets.slice(shift), ...targets.slice(0, shift)]
}

/** What a signal must stop: the wrk run in progress and the servers started so far. */
const running: { wrk?: Bun.Subprocess; services: Service[]; stopping: boolean } = {
  services: [],
  stopping: false,
}

function stopOnSignal(signal: NodeJS.Signals, code: number): void {
  process.on(signal, () => {
    if (running.stopping) {
      return
    }
    running.stopping = true
    progress(`${signal}: stopping`)
    running.wrk?.kill('SIGKILL')
    void Promise.all(running.services.map((service) => service.stop())).finally(() =>
      process.exit(code),
    )
  })
}

async function runBench(options: BenchOptions, ws: Workspace): Promise<void> {
  const started = running.services
  try {
    const upstream = await (options.upstream === 'nginx' ? startNginx(ws) : startBunUpstream(ws))
    started.push(upstream)
    const squid = await startSquid(ws)
    started.push(squid)
    const roxy = await startRoxy(ws, {
      command: options.roxyCommand,
      maxIdlePerHost: options.maxIdlePerHost,
    })
    started.push(roxy)
    await Bun.sleep(1000)
    const roxyIdle = readGroupMemory(roxy.pgid).rss
    const squidIdle = readGroupMemory(squid.pgid).rss

    const targets: Target[] = [
      { name: 'direct', port: upstream.port, absoluteForm: false },
      { name: 'squid', port: squid.port, absoluteForm: true, proxy: squid },
      { name: 'roxy', port: roxy.port, absoluteForm: true, proxy: roxy },
    ]
    if (options.floor) {
      const relay = await startBunRelay(ws, upstream.port)
      started.push(relay)
      targets.push({ name: 'bun-relay', port: relay.port, absoluteForm: true, proxy: relay })
    }
    if (options.warmupSec > 0) {
      for (const target of targets) {
        progress(`warm-up ${target.name} ${options.warmupSec}s`)
        await runWrk(options, target, upstream.port, options.warmupSec)
      }
    }
    const results: Measurement[] = []
    for (let round = 0; round < options.rounds; round++) {
      for (const target of orderForRound(targets, round)) {
        const m = await measure(options, target, upstream, round + 1)
        progress(
          `round ${round + 1} ${m.target}: ${Math.round(m.reqPerSec)} req/s, ` +
            `p99 ${m.p99Ms.toFixed(2)} ms, proxy CPU ${m.proxyCpuUsPerReq?.toFixed(1) ?? '-'} µs/req`,
        )
        results.push(m)
      }
    }
    const memory = await readMemoryRows(options, [
      { name: 'roxy', service: roxy, idle: roxyIdle },
      { name: 'squid', service: squid, idle: squidIdle },
    ])
    process.stdout.write('\n' + formatReport(options, results, memory, describeUpstream(options)))
  } finally {
    for (const service of [...started].reverse()) {
      await service.stop()
    }
  }
  if (options.cpuProfDir) {
    await printProfileTop(options.cpuProfDir)
  }
}

/** roxy wrote its profile when it stopped: print the newest one's top functions. */
async function printProfileTop(dir: string): Promise<void> {
  const files = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))
  const newest = files.sort().at(-1)
  if (!newest) {
    progress(`no .cpuprofile in ${dir}`)
    return
  }
  const profile = await Bun.file(join(dir, newest)).json()
  process.stdout.write(
    `\n### roxy CPU profile (${join(dir, newest)}), by sample count\n\n` +
      summarizeProfile(profile, 20),
  )
}

/** Peak RSS now; with --memory, also the RSS after `settleSec` of idleness. */
async function readMemoryRows(
  options: BenchOptions,
  proxies: Array<{ name: string; service: Service; idle: number }>,
): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = proxies.map(({ name, service, idle }) => ({
    name,
    idle,
    peak: readGroupMemory(service.pgid).peak,
  }))
  if (options.memory) {
    progress(`waiting ${options.settleSec}s for the RSS after the load`)
    await Bun.sleep(options.settleSec * 1000)
    proxies.forEach(({ service }, i) => {
      rows[i].after = readGroupMemory(service.pgid).rss
    })
  }
  return rows
}

function describeUpstream(options: BenchOptions): string {
  return options.upstream === 'nginx'
    ? 'nginx, 1 worker, `return 200 ok`, access log off'
    : 'Bun.serve returning `ok` (bench/upstream.ts)'
}

function progress(text: string): void {
  process.stderr.write(`[bench] ${text}\n`)
}

stopOnSignal('SIGINT', 130)
stopOnSignal('SIGTERM', 143)
const options = parseArgs(process.argv.slice(2))
await runBench(options, { dir: options.workdir }).catch((err: unknown) => {
  // A signal stops the servers under a running wrk: its failure is expected then.
  if (!running.stopping) {
    throw err
  }
  return new Promise(() => {}) // the signal handler exits once everything is stopped
})
