import { ConfigError } from '../../src/errors.ts'
import type { ConfigProblem } from '../../src/errors.ts'
import { parseConfigText } from '../../src/config/parse-config.ts'
import type { LoadedConfig, LoadOptions } from '../../src/config/parse-config.ts'
import { inspectFakeRule } from './fake-inspector.ts'

/** Parses `text` as `test.yaml` with the fake rule inspector. */
export function parseTest(text: string, opts: Partial<LoadOptions> = {}): LoadedConfig {
  return parseConfigText(text, 'test.yaml', { inspectRule: inspectFakeRule, ...opts })
}

/** The problems parsing `text` reports; fails the test when it parses. */
export function problemsOf(text: string, opts: Partial<LoadOptions> = {}): ConfigProblem[] {
  try {
    parseTest(text, opts)
  } catch (err) {
    if (err instanceof ConfigError) {
      return err.problems
    }
    throw err
  }
  throw new Error(`expected a ConfigError for:\n${text}`)
}
