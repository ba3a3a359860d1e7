#!/usr/bin/env bun
/**
 * roxy command line (SPEC §1). Exit codes: 0 success, 1 config or usage
 * error, 2 runtime failure (e.g. the port is taken).
 */
import pkg from '../package.json' with { type: 'json' }
import { ProxyApp } from './app/proxy-app.ts'
import { CONFIG_FLAG, UsageError, parseArgs } from './cli/args.ts'
import { runCa } from './cli/ca-command.ts'
import { runCheck } from './cli/check-command.ts'
import { runExplain } from './cli/explain-command.ts'
import { defaultConfig, loadConfig, type LoadOptions, type LoadedConfig } from './config/index.ts'
import { ConfigError, RoxyError } from './errors.ts'
import { parseResetSchedule } from './limits/index.ts'
import { log } from './observe/log.ts'
import { compileGlob, inspectRule } from './rules/index.ts'

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
  ROXY_LOG        log levels, e.g. info, debug, info,rules=debug
  ROXY_IDLE_TRIM  off: keep the executable's code pages mapped when idle
                  (by default they are released after 10 quiet seconds)

Exit codes: 0 success, 1 config or usage error, 2 runtime failure.
`

const LOAD_OPTIONS: LoadOptions = {
  inspectRule,
  parseSchedule: (text) => void parseResetSchedule(text),
  checkGlob: (pattern) => void compileGlob(pattern, { ignoreCase: true }),
}

async function main(argv: string[]): Promise<number> {
  const first = argv[0]
  switch (first) {
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE)
      return 0
    case '-V':
    case '--version':
      process.stdout.write(`roxy ${pkg.version} (bun ${Bun.version})\n`)
      return 0
    case undefined:
      return run([])
    case 'run':
      return run(argv.slice(1))
    case 'check':
      return runCheck(argv.slice(1), LOAD_OPTIONS)
    case 'explain':
      return runExplain(argv.slice(1), LOAD_OPTIONS)
    case 'ca':
      return runCa(argv.slice(1))
  }
  if (first.startsWith('-')) {
    return run(argv)
  }
  throw new UsageError(`unknown command ${JSON.stringify(first)}`)
}

async function run(args: string[]): Promise<number> {
  const file = parseArgs(args, { values: CONFIG_FLAG }).values.config
  const unknown = log.configure(process.env.ROXY_LOG)
  if (unknown.length > 0) {
    log.warn('runtime', 'ROXY_LOG entries not understood', { entries: unknown })
  }
  const loaded: LoadedConfig = file
    ? loadConfig(file, LOAD_OPTIONS)
    : { config: defaultConfig(), warnings: [] }
  for (const warning of loaded.warnings) {
    log.warn('runtime', 'config warning', { warning })
  }
  const app = new ProxyApp({
    config: loaded.config,
    path: file,
    bytes: loaded.bytes,
    loadOptions: LOAD_OPTIONS,
  })
  app.start()
  return waitForSignals(app)
}

function waitForSignals(app: ProxyApp): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) {
        return
      }
      stopping = true
      log.info('proxy', 'shutting down', { signal, in_flight: app.server.stats.inFlight })
      void app.stop().then(() => resolve(0))
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGHUP', () => void app.reloadNow())
  })
}

function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError || (err instanceof RoxyError && err.code !== 'ROXY_E_LISTEN')) {
    return 1
  }
  return 2
}

main(process.argv.slice(2)).then(
  (code) => {
    log.flush()
    process.exit(code)
  },
  (err: unknown) => {
    log.flush()
    const message = err instanceof Error ? err.message : String(err)
    process.stderr.write(`roxy: ${message.replace(/\n/g, '\nroxy: ')}\n`)
    process.exit(exitCodeFor(err))
  },
)
