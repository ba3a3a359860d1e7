/**
 * HTTPS interception benchmark: keep-alive HTTPS through roxy, mitmproxy (mitmdump) and
 * http-mitm-proxy to one local nginx origin, interleaved round by round, then the extra
 * time of a first request to a new host (certificate issuance). Started by
 * bench/tls-run.sh (tools, temp dir, kill-everything trap); see docs/bench.md.
 *
 * Per run and proxy: req/s and latency from bench/tls-client.ts, the proxy's CPU time
 * per request (utime + stime of its process group, /proc), the client's and origin's CPU.
 * Per proxy, over N new names: a fresh tunnel's first request to a new name minus one to
 * an already issued name, median.
 */
import { finishRoxyOptions, readPositive } from './bench-args.ts'
import { join } from 'node:path'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { readGroupCpu, readGroupCpuUs, readMachineBusyUs } from './proc-stats.ts'
import { summarizeProfile } from './cpu-prof-top.ts'
import {
  startHttpMitmProxy,
  startMitmdump,
  startRoxyIntercept,
  startTlsOrigin,
  type InterceptService,
  type Service,
  type Workspace,
} from './services.ts'
import type { LoadResult, NewHostsResult } from './tls-client.ts'
import { makeTestPki } from './tls-pki.ts'
import { formatTlsReport, PROXY_NAMES, type ProxyName, type TlsMeasurement } from './tls-report.ts'

export interface TlsBenchOptions {
  durationSec: number
  warmupSec: number
  rounds: number
  connections: number
  newHosts: number
  proxies: ProxyName[]
  roxyCommand: string[]
  /** roxy's pool.max_idle_per_host; undefined: roxy's default. */
  maxIdlePerHost: number | undefined
  cpuProfDir: string
  depsDir: string
  workdir: string
  /** The options as given, to print the command that reproduces the table. */
  args: string[]
}

const USAGE = `usage: bash bench/tls-run.sh [options]
  --duration S       seconds per measured run (default 10)
  --warmup S         unmeasured seconds per proxy before round 1 (default 3)
  --rounds N         interleaved rounds; the median is reported (default 3; 0: only
                     the new-host measurement, e.g. to profile it)
  --connections N    keep-alive tunnels of the client (default 16)
  --new-hosts N      new host names for the issuance measurement (default 40)
  --only LIST        comma-separated subset of ${PROXY_NAMES.join(',')}
  --roxy-bin PATH    a built roxy (dist/roxy) instead of bun src/main.ts
  --max-idle N       roxy pool.max_idle_per_host (default: roxy's default, 10);
                     0 turns pooling off: every request dials the origin
  --cpu-prof DIR     run roxy under bun --cpu-prof --cpu-prof-md, profile into DIR
                     (written when roxy stops; the profiler slows roxy down)
`

/** The host the load and the "already issued" baseline use; new hosts are hostN.test. */
const ISSUED_HOST = 'bench.test'

function parseArgs(argv: string[]): TlsBenchOptions {
  const options: TlsBenchOptions = {
    durationSec: 10,
    warmupSec: 3,
    rounds: 3,
    connections: 16,
    newHosts: 40,
    proxies: [...PROXY_NAMES],
    roxyCommand: [process.execPath, join(import.meta.dir, '..', 'src', 'main.ts')],
    maxIdlePerHost: undefined,
    cpuProfDir: '',
    depsDir: join(import.meta.dir, '.deps'),
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
        options.rounds = readPositive(flag, next(), true)
        break
      case '--connections':
        options.connections = readPositive(flag, next())
        break
      case '--new-hosts':
        options.newHosts = readPositive(flag, next())
        break
      case '--only':
        options.proxies = readProxyList(next())
        break
      case '--roxy-bin':
        options.roxyCommand = [next()]
        break
      case '--max-idle':
        options.maxIdlePerHost = readPositive(flag, next(), true)
        break
      case '--cpu-prof':
        options.cpuProfDir = next()
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
  return finishRoxyOptions(options, 'bench/tls-run.sh')
}

function readProxyList(text: string): ProxyName[] {
  const names = text.split(',').filter(Boolean)
  const unknown = names.filter((name) => !(PROXY_NAMES as readonly string[]).includes(name))
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`--only takes names from ${PROXY_NAMES.join(',')}, got ${text}`)
  }
  return names as ProxyName[]
}

/** A proxy under test: its service and the file its CA certificate is in. */
interface Contender {
  name: ProxyName
  service: InterceptService
  caPath: string
}

/** What a signal must stop: the client in progress and the servers started so far. */
const running: { client?: Bun.Subprocess; services: Service[]; stopping: boolean } = {
  services: [],
  stopping: false,
}

async function runClient<T>(args: string[]): Promise<T> {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, 'tls-client.ts'), ...args], {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  running.client = proc
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  running.client = undefined
  const line = out.split('\n').findLast((l) => l.startsWith('{'))
  if (code !== 0 || !line) {
    throw new Error(`tls-client ${args[0]} failed (exit ${code}):\n${out}${err}`)
  }
  return JSON.parse(line) as T
}

function runLoad(contender: Contender, originPort: number, connections: number, seconds: number) {
  return runClient<LoadResult>([
    'load',
    `${contender.service.port}`,
    ISSUED_HOST,
    `${originPort}`,
    contender.caPath,
    `${connections}`,
    `${seconds}`,
  ])
}

async function measure(
  options: TlsBenchOptions,
  contender: Contender,
  origin: Service,
  round: number,
): Promise<TlsMeasurement> {
  const proxyBefore = readGroupCpu(contender.service.pgid)
  const originBefore = readGroupCpuUs(origin.pgid)
  const machineBefore = readMachineBusyUs()
  const wallBefore = performance.now()
  const load = await runLoad(contender, origin.port, options.connections, options.durationSec)
  const wallUs = (performance.now() - wallBefore) * 1000
  const machineUs = readMachineBusyUs() - machineBefore
  const proxyAfter = readGroupCpu(contender.service.pgid)
  const originUs = readGroupCpuUs(origin.pgid) - originBefore
  const proxySysUs = proxyAfter.systemUs - proxyBefore.systemUs
  const proxyUs = proxyAfter.userUs - proxyBefore.userUs + proxySysUs
  // The client's start-up and tunnel set-up are outside its measured window but inside
  // the machine's: counted as the client's too, so "other load" is only other tenants.
  const foreignUs = Math.max(0, machineUs - proxyUs - originUs - load.cpuUs)
  return {
    proxy: contender.name,
    round,
    requests: load.requests,
    reqPerSec: load.requests / load.seconds,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    proxyCpuUsPerReq: proxyUs / load.requests,
    proxySysUsPerReq: proxySysUs / load.requests,
    originCpuUsPerReq: originUs / load.requests,
    clientCpuUsPerReq: load.cpuUs / load.requests,
    clientCorePct: (100 * load.cpuUs) / (load.seconds * 1e6),
    foreignCpuPct: (100 * foreignUs) / (wallUs * availableParallelism()),
    errors: load.errors,
    firstProblem: load.firstProblem,
  }
}

/** Rotate the order each round so drift (other load, heat) does not favour one proxy. */
function orderForRound<T>(items: T[], round: number): T[] {
  const shift = round % items.length
  return [...items.slice(shift), ...items.slice(0, shift)]
}

async function startContender(
  options: TlsBenchOptions,
  ws: Workspace,
  name: ProxyName,
  upstreamCa: string,
): Promise<Contender> {
  const service =
    name === 'roxy'
      ? await startRoxyIntercept(ws, {
          command: options.roxyCommand,
          upstreamCa,
          maxIdlePerHost: options.maxIdlePerHost,
        })
      : name === 'mitmproxy'
        ? await startMitmdump(ws, { upstreamCa })
        : await startHttpMitmProxy(ws, { upstreamCa, depsDir: options.depsDir })
  running.services.push(service)
  const caPath = join(ws.dir, `${name}-ca.pem`)
  writeFileSync(caPath, service.caPem)
  return { name, service, caPath }
}

async function runBench(options: TlsBenchOptions, ws: Workspace): Promise<void> {
  const newHosts = Array.from({ length: options.newHosts }, (_, i) => `host${i}.test`)
  progress(`making the origin PKI (${newHosts.length + 1} certificates)`)
  const pki = makeTestPki(join(ws.dir, 'pki'), [ISSUED_HOST, ...newHosts])
  try {
    const origin = await startTlsOrigin(ws, pki)
    running.services.push(origin)
    const contenders: Contender[] = []
    for (const name of options.proxies) {
      progress(`starting ${name}`)
      contenders.push(await startContender(options, ws, name, pki.caPath))
    }
    if (options.warmupSec > 0) {
      for (const contender of contenders) {
        progress(`warm-up ${contender.name} ${options.warmupSec}s`)
        await runLoad(contender, origin.port, options.connections, options.warmupSec)
      }
    }
    const results: TlsMeasurement[] = []
    for (let round = 0; round < options.rounds; round++) {
      for (const contender of orderForRound(contenders, round)) {
        const m = await measure(options, contender, origin, round + 1)
        progress(
          `round ${round + 1} ${m.proxy}: ${Math.round(m.reqPerSec)} req/s, ` +
            `CPU ${m.proxyCpuUsPerReq.toFixed(1)} µs/req, client ${m.clientCorePct.toFixed(0)} % ` +
            `of a core, ${m.errors} errors`,
        )
        results.push(m)
      }
    }
    const issuance = new Map<ProxyName, NewHostsResult>()
    for (const contender of contenders) {
      progress(`first requests to ${newHosts.length} new hosts through ${contender.name}`)
      issuance.set(contender.name, await runNewHosts(contender, origin.port, newHosts))
    }
    const versions = readVersions(options)
    process.stdout.write('\n' + formatTlsReport({ ...options, versions }, results, issuance))
  } finally {
    for (const service of [...running.services].reverse()) {
      await service.stop()
    }
  }
  if (options.cpuProfDir) {
    await printProfileTop(options.cpuProfDir)
  }
}

function runNewHosts(contender: Contender, originPort: number, hosts: string[]) {
  return runClient<NewHostsResult>([
    'new-hosts',
    `${contender.service.port}`,
    `${originPort}`,
    contender.caPath,
    ISSUED_HOST,
    ...hosts,
  ])
}

/** Versions of the tools compared, as one phrase for the report. */
function readVersions(options: TlsBenchOptions): string {
  const firstLine = (cmd: string[]) => {
    const result = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' })
    return `${result.stdout}${result.stderr}`.trim().split('\n', 1)[0]
  }
  const parts = [`Bun ${Bun.version}`, firstLine(['nginx', '-v']).replace('nginx version: ', '')]
  if (options.proxies.includes('mitmproxy')) {
    parts.push(firstLine(['mitmdump', '--version']).replace('Mitmproxy: ', 'mitmproxy '))
  }
  if (options.proxies.includes('http-mitm-proxy')) {
    const manifest = join(options.depsDir, 'node_modules', 'http-mitm-proxy', 'package.json')
    const version = JSON.parse(readFileSync(manifest, 'utf8')).version
    parts.push(`http-mitm-proxy ${version} on Node ${firstLine(['node', '--version'])}`)
  }
  return parts.join(', ')
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
      summarizeProfile(profile, 25),
  )
}

function progress(text: string): void {
  process.stderr.write(`[bench-tls] ${text}\n`)
}

function stopOnSignal(signal: NodeJS.Signals, code: number): void {
  process.on(signal, () => {
    if (running.stopping) {
      return
    }
    running.stopping = true
    progress(`${signal}: stopping`)
    running.client?.kill('SIGKILL')
    void Promise.all(running.services.map((service) => service.stop())).finally(() =>
      process.exit(code),
    )
  })
}

stopOnSignal('SIGINT', 130)
stopOnSignal('SIGTERM', 143)
const options = parseArgs(process.argv.slice(2))
await runBench(options, { dir: options.workdir }).catch((err: unknown) => {
  // A signal stops the servers under a running client: its failure is expected then.
  if (!running.stopping) {
    throw err
  }
  return new Promise(() => {}) // the signal handler exits once everything is stopped
})
