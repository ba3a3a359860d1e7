import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/load-config.ts'
import { ConfigWatcher } from '../../src/config/watch.ts'
import type { ReloadResult, WatchTimers } from '../../src/config/watch.ts'
import type { ConfigError } from '../../src/errors.ts'
import { inspectFakeRule } from './fake-inspector.ts'

const dir = mkdtempSync(join(tmpdir(), 'roxy-watch-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const BASE = `listen: "127.0.0.1:0"
reload_interval_secs: 5
rules:
  - name: limit
    rule: 'x = rate_limit(10/s, ip)'
`

/** A timer double: records the interval and fires only when the test says so. */
class ManualTimers implements WatchTimers {
  active = new Map<number, { fn: () => void; ms: number }>()
  #next = 1
  setInterval(fn: () => void, ms: number): unknown {
    const id = this.#next++
    this.active.set(id, { fn, ms })
    return id
  }
  clearInterval(handle: unknown): void {
    this.active.delete(handle as number)
  }
  intervals(): number[] {
    return [...this.active.values()].map((t) => t.ms)
  }
}

let path = ''
let valid: ReloadResult[] = []
let invalid: ConfigError[] = []
let caseNo = 0

function startWatcher(text = BASE, timers?: WatchTimers): ConfigWatcher {
  path = join(dir, `case-${caseNo++}.yaml`)
  writeFileSync(path, text)
  const loaded = loadConfig(path, { inspectRule: inspectFakeRule })
  return new ConfigWatcher({
    path,
    current: loaded.config,
    bytes: loaded.bytes,
    inspectRule: inspectFakeRule,
    onValid: (result) => valid.push(result),
    onInvalid: (error) => invalid.push(error),
    timers,
  })
}

beforeEach(() => {
  valid = []
  invalid = []
})

describe('given an unchanged file', () => {
  test('should not validate or call back', async () => {
    const watcher = startWatcher()
    expect(await watcher.tick()).toBe('unchanged')
    expect(await watcher.reloadNow()).toBe('unchanged')
    expect(valid.length + invalid.length).toBe(0)
  })
})

describe('given a valid edit to hot settings', () => {
  test('should hand over the new rules with nothing needing a restart', async () => {
    const watcher = startWatcher()
    writeFileSync(path, BASE.replace('10/s', '15/s'))
    expect(await watcher.tick()).toBe('applied')
    expect(valid).toHaveLength(1)
    expect(valid[0].config.rules[0].rule).toBe('x = rate_limit(15/s, ip)')
    expect(valid[0].restartNeeded).toEqual([])
    expect(watcher.current).toBe(valid[0].config)
  })

  test('should apply only once for the same bytes', async () => {
    const watcher = startWatcher()
    writeFileSync(path, BASE.replace('10/s', '20/s'))
    await watcher.tick()
    expect(await watcher.tick()).toBe('unchanged')
    expect(valid).toHaveLength(1)
  })
})

describe('given an invalid edit', () => {
  test('should report every problem and keep the running config', async () => {
    const watcher = startWatcher()
    const before = watcher.current
    writeFileSync(path, BASE + 'tsl: {}\nlisten_: x\n')
    expect(await watcher.tick()).toBe('rejected')
    expect(invalid).toHaveLength(1)
    expect(invalid[0].problems.map((p) => p.code)).toEqual([
      'ROXY_E_CONFIG_UNKNOWN_KEY',
      'ROXY_E_CONFIG_UNKNOWN_KEY',
    ])
    expect(watcher.current).toBe(before)
  })

  test('should report the same broken bytes once, then apply the fix', async () => {
    const watcher = startWatcher()
    writeFileSync(path, 'listen: [\n')
    await watcher.tick()
    await watcher.tick()
    expect(invalid).toHaveLength(1)
    expect(invalid[0].code).toBe('ROXY_E_CONFIG_SYNTAX')
    writeFileSync(path, BASE.replace('limit', 'limit2'))
    expect(await watcher.tick()).toBe('applied')
    expect(valid[0].config.rules[0].name).toBe('limit2')
  })

  test('should report a file that disappeared once, naming it', async () => {
    const watcher = startWatcher()
    rmSync(path)
    expect(await watcher.tick()).toBe('rejected')
    expect(await watcher.tick()).toBe('unchanged')
    expect(invalid).toHaveLength(1)
    expect(invalid[0].code).toBe('ROXY_E_CONFIG_READ')
    expect(invalid[0].message).toContain(path)
  })
})

describe('given an edit to restart-only settings', () => {
  test('should name them and keep their running values', async () => {
    const watcher = startWatcher()
    const text = BASE.replace('127.0.0.1:0', '127.0.0.1:9999') + 'tls: { cert_cache_size: 5 }\n'
    writeFileSync(path, text.replace('10/s', '11/s'))
    await watcher.tick()
    const [result] = valid
    expect(result.restartNeeded).toEqual(['listen', 'tls'])
    expect(result.config.listen.port).toBe(0)
    expect(result.config.tls.certCacheSize).toBe(1000)
    expect(result.loaded.listen.port).toBe(9999)
    expect(result.config.rules[0].rule).toContain('11/s')
  })

  test('should keep naming them on later reloads until a restart', async () => {
    const watcher = startWatcher()
    writeFileSync(path, BASE.replace('127.0.0.1:0', '127.0.0.1:1'))
    await watcher.tick()
    writeFileSync(path, BASE.replace('127.0.0.1:0', '127.0.0.1:1').replace('10/s', '9/s'))
    await watcher.tick()
    expect(valid.map((r) => r.restartNeeded)).toEqual([['listen'], ['listen']])
  })
})

describe('given timers', () => {
  test('should poll every reload_interval_secs and follow a changed interval', async () => {
    const timers = new ManualTimers()
    const watcher = startWatcher(BASE, timers)
    watcher.start()
    expect(timers.intervals()).toEqual([5000])
    writeFileSync(path, BASE.replace('reload_interval_secs: 5', 'reload_interval_secs: 2'))
    const [timer] = timers.active.values()
    timer.fn()
    await watcher.tick() // joins the poll the timer started
    expect(valid).toHaveLength(1)
    expect(timers.intervals()).toEqual([2000])
    watcher.stop()
    expect(timers.intervals()).toEqual([])
  })

  test('should not poll when the interval is 0, yet reload on demand', async () => {
    const timers = new ManualTimers()
    const watcher = startWatcher(
      BASE.replace('reload_interval_secs: 5', 'reload_interval_secs: 0'),
      timers,
    )
    watcher.start()
    expect(timers.intervals()).toEqual([])
    writeFileSync(path, BASE.replace('10/s', '12/s'))
    expect(await watcher.reloadNow()).toBe('applied')
  })

  test('should share one poll between concurrent calls', async () => {
    const watcher = startWatcher()
    writeFileSync(path, BASE.replace('10/s', '13/s'))
    const outcomes = await Promise.all([watcher.tick(), watcher.reloadNow()])
    expect(outcomes).toEqual(['applied', 'applied'])
    expect(valid).toHaveLength(1)
  })
})
