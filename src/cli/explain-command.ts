/**
 * `roxy explain -c FILE URL [-X METHOD] [-H 'Name: value']... [--ip ADDR]`:
 * a dry run of the rules for one request. Touches no counters.
 */
import { loadConfig, type LoadOptions } from '../config/index.ts'
import { RuleSet, explainRequest, type RuleRequest } from '../rules/index.ts'
import { CONFIG_FLAG, UsageError, parseArgs } from './args.ts'

export function runExplain(args: readonly string[], loadOptions: LoadOptions): number {
  const parsed = parseArgs(args, {
    values: { ...CONFIG_FLAG, '-X': 'method', '--request': 'method', '--ip': 'ip' },
    lists: { '-H': 'header', '--header': 'header' },
    maxPositionals: 1,
  })
  const file = parsed.values.config
  const url = parsed.positionals[0]
  if (!file || !url) {
    throw new UsageError('explain needs -c FILE and a URL')
  }
  const { config } = loadConfig(file, loadOptions)
  const ruleSet = new RuleSet({
    rules: config.rules.map((r) => ({ name: r.name, rule: r.rule, log_level: r.logLevel })),
    headers: config.headers,
  })
  const req = buildRequest(
    url,
    parsed.values.method ?? 'GET',
    parsed.lists.header ?? [],
    parsed.values.ip,
  )
  process.stdout.write(explainRequest(ruleSet, req) + '\n')
  return 0
}

function buildRequest(
  url: string,
  method: string,
  headerArgs: string[],
  ip = '127.0.0.1',
): RuleRequest {
  let parsed: URL
  try {
    parsed = new URL(url.includes('://') ? url : `http://${url}`)
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(url)}`)
  }
  const headers: string[] = []
  for (const arg of headerArgs) {
    const colon = arg.indexOf(':')
    if (colon <= 0) {
      throw new UsageError(`-H takes 'Name: value', got ${JSON.stringify(arg)}`)
    }
    headers.push(arg.slice(0, colon).trim(), arg.slice(colon + 1).trim())
  }
  return {
    method,
    host: parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase(),
    path: parsed.pathname || '/',
    ip,
    headers,
  }
}
