/**
 * A small argument reader for roxy's commands: flags with values, repeated
 * flags, booleans and positionals, with usage errors that name the flag.
 */
import { RoxyError } from '../errors.ts'

export class UsageError extends RoxyError {
  constructor(message: string) {
    super('ROXY_E_USAGE', `${message}; see roxy --help`)
  }
}

export interface ArgSpec {
  /** Flags that take a value, with their aliases: `{ '-c': 'config', '--config': 'config' }`. */
  values?: Record<string, string>
  /** Flags that may repeat (their values collect into a list). */
  lists?: Record<string, string>
  /** Flags without a value. */
  booleans?: Record<string, string>
  /** How many positionals are allowed. */
  maxPositionals?: number
}

export interface ParsedArgs {
  values: Record<string, string>
  lists: Record<string, string[]>
  booleans: Record<string, boolean>
  positionals: string[]
}

export function parseArgs(args: readonly string[], spec: ArgSpec): ParsedArgs {
  const out: ParsedArgs = { values: {}, lists: {}, booleans: {}, positionals: [] }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    const valueName = spec.values?.[arg] ?? spec.lists?.[arg]
    if (valueName) {
      const value = args[++i]
      if (value === undefined) {
        throw new UsageError(`${arg} needs a value`)
      }
      if (spec.lists?.[arg]) {
        ;(out.lists[valueName] ??= []).push(value)
      } else {
        out.values[valueName] = value
      }
    } else if (spec.booleans?.[arg]) {
      out.booleans[spec.booleans[arg]] = true
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${JSON.stringify(arg)}`)
    } else {
      out.positionals.push(arg)
    }
  }
  if (out.positionals.length > (spec.maxPositionals ?? 0)) {
    throw new UsageError(`unexpected argument ${JSON.stringify(out.positionals.at(-1))}`)
  }
  return out
}

export const CONFIG_FLAG = { '-c': 'config', '--config': 'config' }
