/**
 * Headers whose values never reach a log line or an explanation (SPEC §8).
 * The logger redacts them too; marking them here means a value that slips
 * past one layer is still caught by the other.
 */
const SECRET_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
])

/** What a secret header's value is replaced with. */
export const REDACTED = '[redacted]'

/** Is this header (name in lower case) a secret? */
export function isSecretHeader(lowerName: string): boolean {
  return SECRET_HEADERS.has(lowerName)
}
