/**
 * `roxy check -c FILE`: load and validate the config, compile every rule,
 * print warnings (config warnings, unreachable and duplicate rules). Exit 0
 * when it would start; a `ConfigError` (exit 1) otherwise.
 */
import { loadConfig, type LoadOptions } from '../config/index.ts'
import { checkRules } from '../rules/index.ts'
import { CONFIG_FLAG, UsageError, parseArgs } from './args.ts'

export function runCheck(args: readonly string[], loadOptions: LoadOptions): number {
  const { values } = parseArgs(args, { values: CONFIG_FLAG })
  if (!values.config) {
    throw new UsageError('check needs -c FILE')
  }
  const { config, warnings } = loadConfig(values.config, loadOptions)
  const ruleWarnings = checkRules(
    config.rules.map((r) => ({ name: r.name, rule: r.rule, log_level: r.logLevel })),
    config.headers,
  ).warnings
  for (const warning of [...warnings, ...ruleWarnings]) {
    process.stdout.write(`warning: ${warning}\n`)
  }
  const counts = `${config.rules.length} rule(s), ${ruleWarnings.length + warnings.length} warning(s)`
  process.stdout.write(`ok: ${values.config} would start (${counts})\n`)
  return 0
}
