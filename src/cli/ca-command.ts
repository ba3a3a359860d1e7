/**
 * `roxy ca init --out DIR [--force]`: write a new CA key (mode 0600) and
 * certificate for interception; refuses to overwrite without `--force`.
 */
import { initCa } from '../tls/certificate-authority.ts'
import { UsageError, parseArgs } from './args.ts'

export function runCa(args: readonly string[]): number {
  if (args[0] !== 'init') {
    throw new UsageError('ca takes one subcommand: init --out DIR [--force]')
  }
  const parsed = parseArgs(args.slice(1), {
    values: { '--out': 'out', '-o': 'out' },
    booleans: { '--force': 'force', '-f': 'force' },
  })
  const out = parsed.values.out
  if (!out) {
    throw new UsageError('ca init needs --out DIR')
  }
  const { certPath, keyPath, fingerprint } = initCa(out, { force: parsed.booleans.force })
  process.stdout.write(
    `wrote ${keyPath} (mode 0600) and ${certPath}\nSHA-256 fingerprint: ${fingerprint}\n` +
      `use them with:\n  tls:\n    ca_cert: ${certPath}\n    ca_key: ${keyPath}\n`,
  )
  return 0
}
