/**
 * Turns the text of a config file into a validated `RoxyConfig`, collecting every problem
 * before failing (SPEC §2). Reading happens in one pass over the YAML nodes; each section is
 * read by its own module, cross-key checks run last.
 */

import { dirname, resolve as resolvePath } from 'node:path'
import { ConfigError } from '../errors.ts'
import type { ConfigProblem } from '../errors.ts'
import { checkSettings, warnUnsupported } from './check-settings.ts'
import type { RuntimeSupport } from './check-settings.ts'
import { CONFIG_KEYS } from './config-keys.ts'
import {
  DEFAULT_RELOAD_INTERVAL_SECS,
  DEFAULT_STATE_FILE,
  defaultConfig,
} from './default-config.ts'
import { readHeaders } from './read-headers.ts'
import { readCredits, readThrottle } from './read-limit-entries.ts'
import type { ScheduleParser } from './read-limit-entries.ts'
import { readRules } from './read-rules.ts'
import { readSettings } from './read-settings.ts'
import type { RuleInspector } from './rule-inspection.ts'
import type { RoxyConfig } from './schema.ts'
import { YamlReader } from './yaml-reader.ts'

/** What the loader needs from outside config (injected so config imports no rule parser). */
export interface LoadOptions {
  /** Checks one rule text (src/rules provides it). */
  inspectRule: RuleInspector
  /**
   * Checks a `reset_schedule`, throwing an Error with the reason (src/limits provides it).
   * @default a syntax check of daily@HH:MM, weekly@Day-HH:MM, monthly@DD-HH:MM
   */
  parseSchedule?: ScheduleParser
  /**
   * Checks a host glob of `mitm.bypass` or `resolve`, throwing an Error with the reason
   * (src/rules provides it). @default no check
   */
  checkGlob?: (pattern: string) => void
  /** Features the runtime has; settings for missing ones draw a warning. @default {} */
  supports?: RuntimeSupport
}

/** A valid configuration and its warnings (`file:line:col: message`, one per setting). */
export interface LoadedConfig {
  config: RoxyConfig
  warnings: string[]
  /** The file's bytes (set by `loadConfig`), to hand to `ConfigWatcher` as its baseline. */
  bytes?: Uint8Array
}

/**
 * Parses and validates config text as if read from `file` (used for messages and to
 * anchor relative paths).
 * @throws ConfigError with every problem, sorted by line and column
 */
export function parseConfigText(text: string, file: string, opts: LoadOptions): LoadedConfig {
  const reader = new YamlReader(text, file)
  if (reader.hasSyntaxErrors()) {
    throw new ConfigError(sortProblems(reader.problems))
  }
  const config = createFileDefaults(file)
  const top = reader.readMap(reader.readRoot(), CONFIG_KEYS.top)
  readSettings(reader, top, config, dirname(config.file!), opts.checkGlob)
  const index = readRules(reader, top.get('rules'), config, opts.inspectRule)
  readHeaders(reader, top.get('headers'), config, index)
  readThrottle(reader, top.get('throttle'), config, index)
  readCredits(reader, top.get('credits'), config, index, opts.parseSchedule)
  checkSettings(reader, config)
  if (reader.problems.length > 0) {
    throw new ConfigError(sortProblems(reader.problems))
  }
  warnUnsupported(reader, config, opts.supports ?? {})
  return { config, warnings: sortWarnings(reader.warnings) }
}

/** The defaults for a file: the built-in ones, plus reload every 5 s and state beside it. */
function createFileDefaults(file: string): RoxyConfig {
  const config = defaultConfig()
  config.file = resolvePath(file)
  config.reloadIntervalSecs = DEFAULT_RELOAD_INTERVAL_SECS
  config.state.path = resolvePath(dirname(config.file), DEFAULT_STATE_FILE)
  return config
}

/** Sorts `file:line:col: message` strings by line and column. */
function sortWarnings(warnings: string[]): string[] {
  const key = (w: string) => /:(\d+):(\d+): /.exec(w)?.slice(1).map(Number) ?? [0, 0]
  return warnings.toSorted((a, b) => {
    const [la, ca] = key(a)
    const [lb, cb] = key(b)
    return la - lb || ca - cb
  })
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.toSorted((a, b) => a.line - b.line || a.col - b.col)
}
