import { readFileSync } from 'node:fs'
import { ConfigError } from '../errors.ts'
import { parseConfigText } from './parse-config.ts'
import type { LoadedConfig, LoadOptions } from './parse-config.ts'

/** Refuse files past this size: a config is a few KiB; this bounds memory and parse time. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024

const READ_REASONS: Record<string, string> = {
  ENOENT: 'no such file (ENOENT)',
  EACCES: 'permission denied (EACCES)',
  EISDIR: 'it is a directory (EISDIR)',
}

/**
 * Reads and validates the config file at `path` (synchronously: done at start-up).
 * @throws ConfigError `ROXY_E_CONFIG_READ` naming the path when the file is missing,
 *   unreadable, too large or not UTF-8; otherwise every problem found in it.
 */
export function loadConfig(path: string, opts: LoadOptions): LoadedConfig {
  const bytes = readConfigBytes(path)
  return { ...parseConfigText(decodeConfigBytes(bytes, path), path, opts), bytes }
}

/** The raw bytes of a config file, size-checked. @throws ConfigError ROXY_E_CONFIG_READ */
export function readConfigBytes(path: string): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = readFileSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? ''
    const reason = READ_REASONS[code] ?? (err as Error).message
    throw readError(path, `cannot read the config file: ${reason}`, err)
  }
  if (bytes.byteLength > MAX_CONFIG_BYTES) {
    throw readError(path, `the config file is larger than ${MAX_CONFIG_BYTES} bytes`)
  }
  return bytes
}

/** Decodes UTF-8 (a leading BOM is dropped). @throws ConfigError ROXY_E_CONFIG_READ */
export function decodeConfigBytes(bytes: Uint8Array, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (err) {
    throw readError(path, `the config file is not valid UTF-8`, err)
  }
}

function readError(path: string, message: string, cause?: unknown): ConfigError {
  const error = new ConfigError([
    { file: path, line: 1, col: 1, code: 'ROXY_E_CONFIG_READ', message },
  ])
  if (cause !== undefined) {
    Object.defineProperty(error, 'cause', { value: cause })
  }
  return error
}
