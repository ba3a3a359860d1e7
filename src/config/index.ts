/**
 * The config seam: load and validate a file, the built-in default, and hot reload.
 * Config is data: it imports no rule parser, no socket, no limits engine.
 */

export type * from './schema.ts'
export type { RuleInspection, RuleInspector } from './rule-inspection.ts'
export type { RuntimeSupport } from './check-settings.ts'
export type { LoadedConfig, LoadOptions } from './parse-config.ts'
export type { ScheduleParser } from './read-limit-entries.ts'
export type { ConfigWatcherOptions, ReloadOutcome, ReloadResult, WatchTimers } from './watch.ts'
export { defaultConfig } from './default-config.ts'
export { loadConfig } from './load-config.ts'
export { parseConfigText } from './parse-config.ts'
export { formatListenAddress, parseListenAddress } from './listen-address.ts'
export { ConfigWatcher, listRestartChanges } from './watch.ts'
