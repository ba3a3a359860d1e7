import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { defaultConfig } from '../../src/config/default-config.ts'
import { parseTest } from './helpers.ts'

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8')

describe('given the example of SPEC §2', () => {
  const { config, warnings } = parseTest(fixture('spec-example.yaml'))

  test('should read every process setting', () => {
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8080 })
    expect(config.reloadIntervalSecs).toBe(5)
    expect(config.unsafeSkipVerify).toBe(false)
    expect(config.upstreamCa).toBe('/path/bundle.pem')
    expect(config.tls).toEqual({
      caCert: resolve('ca.crt'),
      caKey: resolve('ca.key'),
      certCacheSize: 1000,
    })
    expect(config.mitm.bypass).toEqual(['*.bank.example'])
    expect(config.resolve).toEqual([{ glob: '*.test', address: '127.0.0.1' }])
    expect(config.state).toEqual({ path: resolve('roxy-state.sqlite'), redis: undefined })
    expect(config.metrics.path).toBe('/metrics')
    expect(config.shutdownGraceSecs).toBe(10)
  })

  test('should give the same numbers as the defaults where the example repeats them', () => {
    const defaults = defaultConfig()
    expect(config.pool).toEqual(defaults.pool)
    expect(config.serverTimeouts).toEqual(defaults.serverTimeouts)
    expect(config.tcpKeepalive).toEqual(defaults.tcpKeepalive)
    expect(config.runtimeMetrics).toEqual(defaults.runtimeMetrics)
    expect(config.rateLimit).toEqual(defaults.rateLimit)
  })

  test('should read the policy lists', () => {
    expect(config.rules.map((r) => [r.name, r.logLevel])).toEqual([
      ['api-limit', 'debug'],
      ['budget', 'info'],
    ])
    expect(config.headers).toEqual([
      { rules: ['api-limit'], add: [{ name: 'X-Proxy', value: 'roxy' }], remove: ['X-Internal'] },
    ])
    expect(config.throttle).toEqual([{ rule: 'api-limit', softLimit: 80, maxDelayMs: 2000 }])
    expect(config.credits).toEqual([
      {
        rule: 'budget',
        softLimit: 800,
        maxDelayMs: 2000,
        resetSchedule: 'daily@00:00',
        message: 'Budget used; resets at {reset_time}',
      },
    ])
  })

  test('should warn about the settings Bun or this build cannot honour', () => {
    const named = warnings.map((w) => /: (\S+) /.exec(w.slice('test.yaml:'.length))?.[1])
    expect(named).toEqual([
      'pool.http2_keep_alive_interval_secs',
      'pool.http2_keep_alive_timeout_secs',
      'pool.http2_keep_alive_while_idle',
      'server_timeouts.http2_keep_alive_interval_secs',
      'server_timeouts.http2_keep_alive_timeout_secs',
      'server_timeouts.http2_max_concurrent_streams',
      'tcp_keepalive.interval_secs',
      'tcp_keepalive.retries',
    ])
  })
})

describe('given a Roxy-shaped file', () => {
  const { config } = parseTest(fixture('roxy-readme-example.yaml'))

  test('should keep defaults for keys it leaves out', () => {
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 8080 })
    expect(config.pool.maxIdlePerHost).toBe(50)
    expect(config.pool.http2KeepAliveWhileIdle).toBe(true)
    expect(config.serverTimeouts.tlsHandshakeTimeoutSecs).toBe(15)
    expect(config.tls).toEqual({ certCacheSize: 1000, caCert: undefined, caKey: undefined })
  })

  test('should default the credit message and max delay', () => {
    expect(config.credits[1]).toEqual({
      rule: 'monthly',
      softLimit: undefined,
      maxDelayMs: 2000,
      resetSchedule: 'monthly@01-00:00',
      message: 'Request credit exhausted until {reset_time}',
    })
  })

  test('should point each rule at the first character of its text', () => {
    expect(config.rules[0].textAt).toEqual({ file: 'test.yaml', line: 18, col: 12 })
  })
})

describe('given a file that leaves keys out', () => {
  // prettier-ignore
  test.each([
    ['an empty file', ''],
    ['a comment only', '# nothing here\n'],
    ['empty sections', 'tls:\npool:\nrules:\nheaders: []\n'],
  ])('%s should give the file defaults', (_, text) => {
    const { config, warnings } = parseTest(text)
    const expected = defaultConfig()
    expected.file = resolve('test.yaml')
    expected.reloadIntervalSecs = 5
    expected.state.path = resolve('roxy-state.sqlite')
    expect(config).toEqual(expected)
    expect(warnings).toEqual([])
  })
})

describe('given accepted spellings', () => {
  // prettier-ignore
  test.each([
    ['IPv6 listen', 'listen: "[::1]:8080"', (c: any) => c.listen, { host: '::1', port: 8080 }],
    ['host name listen', 'listen: localhost:0', (c: any) => c.listen, { host: 'localhost', port: 0 }],
    ['any-case log level', "rules: [{name: a, rule: 'x = pass', log_level: OFF}]", (c: any) => c.rules[0].logLevel, 'off'],
    ['numeric rule name', "rules: [{name: 404, rule: 'x = block'}]", (c: any) => c.rules[0].name, '404'],
    ['memory state', 'state: { path: ":memory:" }', (c: any) => c.state.path, undefined],
    ['empty state path', 'state: { path: }', (c: any) => c.state.path, resolve('roxy-state.sqlite')],
    ['keep-alive off with zeros', 'tcp_keepalive: {enabled: false, time_secs: 0, interval_secs: 0}', (c: any) => c.tcpKeepalive.enabled, false],
    ['h2 ping off', 'server_timeouts: {http2_keep_alive_interval_secs: 0, http2_keep_alive_timeout_secs: 0}', (c: any) => c.serverTimeouts.http2KeepAliveIntervalSecs, 0],
    ['age off', 'server_timeouts: {max_connection_age_secs: 0, max_connection_age_grace_secs: 0}', (c: any) => c.serverTimeouts.maxConnectionAgeSecs, 0],
    ['bracketed IPv6 resolve', 'resolve: {"*.v6": "[::1]"}', (c: any) => c.resolve, [{ glob: '*.v6', address: '::1' }]],
    ['bypass lower-cased', 'mitm: {bypass: ["*.Bank.EXAMPLE"]}', (c: any) => c.mitm.bypass, ['*.bank.example']],
    ['weekly full day name', "rules: [{name: c, rule: 'x = credit(5/w, ip)'}]\ncredits: [{rule: c, reset_schedule: weekly@sunday-23:59}]", (c: any) => c.credits[0].resetSchedule, 'weekly@sunday-23:59'],
    ['empty header value', "rules: [{name: m, rule: 'x = mangle'}]\nheaders: [{rules: [m], add: [{name: X-Empty, value: ''}]}]", (c: any) => c.headers[0].add, [{ name: 'X-Empty', value: '' }]],
    ['anchors and aliases', "rules: [{name: &n a, rule: 'x = mangle'}]\nheaders: [{rules: [*n], remove: [X-A]}]", (c: any) => c.headers[0].rules, ['a']],
  ])('%s', (_, text, pick, expected) => {
    expect(pick(parseTest(text).config)).toEqual(expected)
  })
})
