#!/usr/bin/env bun
/**
 * roxy command line (SPEC §1). Exit codes: 0 success, 1 config or usage
 * error, 2 runtime failure (e.g. the port is taken).
 */
import { RoxyError } from './errors.ts'
import { log } from './observe/log.ts'
import { ProxyServer } from './proxy/server.ts'
import { forwardAllPolicy } from './proxy/policy.ts'
import pkg from '../package.json' with { type: 'json' }

const USAGE = `roxy ${pkg.version} — forward HTTP/HTTPS proxy with TLS interception

Usage:
  roxy [-c FILE]                 start the proxy (built-in default without -c)
  roxy run [-c FILE]             same
  roxy check -c FILE             validate a config; exit 0 if it would start
  roxy explain -c FILE URL [-X METHOD] [-H 'Name: value']... [--ip ADDR]
                                 show which rule decides a request (dry run)
  roxy ca init --out DIR [--force]
                                 write a new CA key and certificate
  roxy -h | --help               this text
  roxy -V | --version            version

Environment:
  ROXY_LOG   log levels, e.g. info, debug, info,rules=debug
`

class UsageError extends RoxyError {
  constructor(message: string) {
    super('ROXY_E_USAGE', message)
  }
}

async function main(argv: string[]): Promise<number> {
  const first = argv[0]
  if (first === '-h' || first === '--help' || first === 'help') {
    process.stdout.write(USAGE)
    return 0
  }
  if (first === '-V' || first === '--version') {
    process.stdout.write(`roxy ${pkg.version} (bun ${Bun.version})\n`)
    return 0
  }
  if (first === undefined || first === 'run' || first.startsWith('-')) {
    return run(first === 'run' ? argv.slice(1) : argv)
  }
  throw new UsageError(`unknown command ${JSON.stringify(first)}; see roxy --help`)
}

async function run(args: string[]): Promise<number> {
  const unknown = log.configure(process.env.ROXY_LOG)
  if (unknown.length > 0) {
    log.warn('runtime', 'ROXY_LOG entries not understood', { entries: unknown })
  }
  // TEMPORARY until src/config lands: a few keys read straight from YAML.
  const file = args[0] === '-c' ? args[1] : undefined
  const raw: any = file ? ((await import('yaml')).parse(await Bun.file(file).text()) ?? {}) : {}
  const [lhost, lport] = String(raw.listen ?? '127.0.0.1:8080').split(/:(?=[0-9]+$)/)
  const ut = raw.upstream_timeouts ?? {}
  const server = new ProxyServer({
    host: lhost.replace(/^\[|\]$/g, ''),
    port: Number(lport),
    timeouts: {
      headerReadMs: 15_000,
      connectInitialReadMs: 15_000,
      upstreamConnectMs: (ut.connect_secs ?? 10) * 1000,
      upstreamIdleMs: (ut.idle_secs ?? 60) * 1000,
      shutdownGraceMs: 10_000,
    },
    pool: { maxIdlePerHost: 10, idleTimeoutMs: 30_000 },
    upstreamTls: { rejectUnauthorized: true },
    resolve: Object.entries(raw.resolve ?? {}).map(([g, a]) => [g, String(a)] as const),
    bypass: [],
    tcpKeepAlive: { enabled: true, initialDelayMs: 60_000 },
    policy: forwardAllPolicy,
  })
  server.start()
  log.info('proxy', 'listening', { address: `${lhost}:${server.port}` })
  return waitForSignals(server, 10_000)
}

function waitForSignals(server: ProxyServer, graceMs: number): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) {
        return
      }
      stopping = true
      log.info('proxy', 'shutting down', { signal, in_flight: server.stats.inFlight })
      void server.stop(graceMs).then(() => resolve(0))
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
  })
}

main(process.argv.slice(2)).then(
  (code) => {
    log.flush()
    process.exit(code)
  },
  (err: unknown) => {
    log.flush()
    const code = err instanceof RoxyError ? err.code : undefined
    process.stderr.write(`roxy: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(code === 'ROXY_E_LISTEN' ? 2 : code ? 1 : 2)
  },
)
