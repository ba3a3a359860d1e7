import { describe, expect, test } from 'bun:test'
import { ConfigError } from '../../src/errors.ts'
import type { RoxyErrorCode } from '../../src/errors.ts'
import { parseTest, problemsOf } from './helpers.ts'

const RL = "rules: [{name: rl, rule: 'x = rate_limit(10/s, ip)'}]\n"
const CR = "rules: [{name: cr, rule: 'x = credit(100/d, ip)'}]\n"
const MG = "rules: [{name: mg, rule: 'x = mangle'}]\n"

/** [case, yaml, code, line, col, text the message must contain] */
// prettier-ignore
const CASES: [string, string, RoxyErrorCode, number, number, string][] = [
  // YAML itself
  ['broken YAML', 'listen: [1, 2\npool: {}\n', 'ROXY_E_CONFIG_SYNTAX', 2, 1, 'YAML syntax'],
  ['bad indentation', 'tls:\n  ca_cert: a\n ca_key: b\n', 'ROXY_E_CONFIG_SYNTAX', 3, 1, 'same column'],
  ['duplicate key', 'listen: "a:1"\nlisten: "b:2"\n', 'ROXY_E_CONFIG_DUPLICATE', 2, 1, 'duplicate key'],
  ['root not a mapping', '- listen\n', 'ROXY_E_CONFIG_TYPE', 1, 1, 'must be a mapping'],
  // unknown keys, at every level
  ['unknown top key', 'lisen: "127.0.0.1:8080"\n', 'ROXY_E_CONFIG_UNKNOWN_KEY', 1, 1, "'lisen' (did you mean 'listen'?)"],
  ['unknown tls key', 'tls:\n  ca_crt: a\n', 'ROXY_E_CONFIG_UNKNOWN_KEY', 2, 3, "'tls.ca_crt' (did you mean 'ca_cert'?)"],
  ['unknown pool key', 'pool: { max_idle: 3 }\n', 'ROXY_E_CONFIG_UNKNOWN_KEY', 1, 9, "'pool.max_idle'"],
  ['unknown timeout key', 'server_timeouts:\n  tls_handshake_timeout: 3\n', 'ROXY_E_CONFIG_UNKNOWN_KEY', 2, 3, "did you mean 'tls_handshake_timeout_secs'?"],
  ['unknown rule key', "rules:\n  - name: a\n    rule: 'x = pass'\n    log_levl: warn\n", 'ROXY_E_CONFIG_UNKNOWN_KEY', 4, 5, "'rules[0].log_levl' (did you mean 'log_level'?)"],
  ['unknown header add key', MG + 'headers: [{rules: [mg], add: [{name: X-A, value: b, valeu: c}]}]\n', 'ROXY_E_CONFIG_UNKNOWN_KEY', 2, 53, "'headers[0].add[0].valeu' (did you mean 'value'?)"],
  ['unknown credits key', CR + 'credits: [{rule: cr, reset_schedule: daily@00:00, mesage: m}]\n', 'ROXY_E_CONFIG_UNKNOWN_KEY', 2, 51, "did you mean 'message'?"],
  // types and ranges
  ['text for a number', 'reload_interval_secs: five\n', 'ROXY_E_CONFIG_TYPE', 1, 23, 'reload_interval_secs must be a whole number, got "five"'],
  ['fraction for a number', 'shutdown_grace_secs: 1.5\n', 'ROXY_E_CONFIG_TYPE', 1, 22, 'whole number'],
  ['yes is not a boolean', 'unsafe_skip_verify: yes\n', 'ROXY_E_CONFIG_TYPE', 1, 21, 'true or false'],
  ['list for a mapping', 'pool: [1]\n', 'ROXY_E_CONFIG_TYPE', 1, 7, 'pool must be a mapping'],
  ['mapping for a list', 'rules: {name: a}\n', 'ROXY_E_CONFIG_TYPE', 1, 8, 'rules must be a list'],
  ['negative count', 'pool:\n  max_idle_per_host: -1\n', 'ROXY_E_CONFIG_RANGE', 2, 22, 'pool.max_idle_per_host must be from 0 to 10000, got -1'],
  ['zero cache', 'tls: { cert_cache_size: 0 }\n', 'ROXY_E_CONFIG_RANGE', 1, 25, 'tls.cert_cache_size'],
  ['zero cleanup', 'rate_limit: { cleanup_interval_secs: 0 }\n', 'ROXY_E_CONFIG_RANGE', 1, 38, 'rate_limit.cleanup_interval_secs'],
  ['too many retries', 'tcp_keepalive: { retries: 1000 }\n', 'ROXY_E_CONFIG_RANGE', 1, 27, 'tcp_keepalive.retries'],
  ['secs past a timer', 'reload_interval_secs: 99999999\n', 'ROXY_E_CONFIG_RANGE', 1, 23, 'from 0 to 2147483'],
  // listen
  ['listen without port', 'listen: localhost\n', 'ROXY_E_CONFIG_INVALID', 1, 9, "expected 'host:port'"],
  ['listen port too big', 'listen: "127.0.0.1:70000"\n', 'ROXY_E_CONFIG_INVALID', 1, 9, 'port must be a number from 0 to 65535'],
  ['listen IPv6 unbracketed', 'listen: "::1:8080"\n', 'ROXY_E_CONFIG_INVALID', 1, 9, 'needs brackets'],
  ['listen without host', 'listen: ":8080"\n', 'ROXY_E_CONFIG_INVALID', 1, 9, 'host is missing'],
  ['listen bad IPv4', 'listen: "300.1.1.1:80"\n', 'ROXY_E_CONFIG_INVALID', 1, 9, 'neither an IP address nor a host name'],
  ['listen bad IPv6', 'listen: "[::g]:80"\n', 'ROXY_E_CONFIG_INVALID', 1, 9, 'not an IPv6 address'],
  // rules
  ['rule without name', "rules:\n  - rule: 'x = pass'\n", 'ROXY_E_CONFIG_MISSING', 2, 5, 'rules[0].name is required'],
  ['rule with empty name', "rules:\n  - name: ''\n    rule: 'x = pass'\n", 'ROXY_E_CONFIG_INVALID', 2, 11, 'rules[0].name must not be empty'],
  ['rule without text', 'rules:\n  - name: a\n', 'ROXY_E_CONFIG_MISSING', 2, 5, 'rules[0].rule is required'],
  ['duplicate rule name', "rules:\n  - { name: a, rule: 'x = pass' }\n  - { name: a, rule: 'y = pass' }\n", 'ROXY_E_CONFIG_DUPLICATE', 3, 13, "rule name 'a' is already used on line 2"],
  ['bad log level', "rules: [{ name: a, rule: 'x = pass', log_level: loud }]\n", 'ROXY_E_CONFIG_INVALID', 1, 49, 'one of trace, debug, info, warn, error, off'],
  ['rule error, single quotes', "rules:\n  - name: a\n    rule: 'host(x) !! = pass'\n", 'ROXY_E_RULE_SYNTAX', 3, 20, "rule 'a': unexpected '!!'"],
  ['rule error, double quotes', 'rules:\n  - name: a\n    rule: "h !! = pass"\n', 'ROXY_E_RULE_SYNTAX', 3, 14, "rule 'a'"],
  ['rule error, plain', 'rules:\n  - name: a\n    rule: h !! = pass\n', 'ROXY_E_RULE_SYNTAX', 3, 13, "rule 'a'"],
  ['rule error, literal block', 'rules:\n  - name: a\n    rule: |\n      h &&\n      i !! = pass\n', 'ROXY_E_RULE_SYNTAX', 5, 9, "rule 'a'"],
  ['rule error, escaped quotes', 'rules:\n  - name: a\n    rule: "h(\\"x\\") !! = pass"\n', 'ROXY_E_RULE_SYNTAX', 3, 11, "rule 'a'"],
  // references
  ['headers names unknown rule', MG + 'headers: [{rules: [mgg], remove: [X-A]}]\n', 'ROXY_E_CONFIG_REFERENCE', 2, 20, "'mgg', which does not exist (did you mean 'mg'?)"],
  ['headers without rules', 'headers:\n  - remove: [X-A]\n', 'ROXY_E_CONFIG_MISSING', 2, 5, 'headers[0].rules is required'],
  ['throttle names unknown rule', RL + 'throttle: [{rule: nope, soft_limit: 1}]\n', 'ROXY_E_CONFIG_REFERENCE', 2, 19, "'nope', which does not exist"],
  ['credits names unknown rule', RL + 'credits: [{rule: nope, reset_schedule: daily@00:00}]\n', 'ROXY_E_CONFIG_REFERENCE', 2, 18, "'nope', which does not exist"],
  ['duplicate throttle', RL + 'throttle:\n  - {rule: rl, soft_limit: 1}\n  - {rule: rl, soft_limit: 2}\n', 'ROXY_E_CONFIG_DUPLICATE', 4, 12, "throttle already has an entry for rule 'rl' on line 3"],
  ['duplicate credits', CR + 'credits:\n  - {rule: cr, reset_schedule: daily@00:00}\n  - {rule: cr, reset_schedule: daily@01:00}\n', 'ROXY_E_CONFIG_DUPLICATE', 4, 12, "credits already has an entry for rule 'cr'"],
  ['credits on a non-credit rule', RL + 'credits: [{rule: rl, reset_schedule: daily@00:00}]\n', 'ROXY_E_CONFIG_REFERENCE', 2, 18, 'has no credit(...)'],
  ['credit rule without credits', "rules:\n  - name: budget\n    rule: 'x = credit(5/d, ip)'\n", 'ROXY_E_CONFIG_MISSING', 2, 11, "rule 'budget' uses credit(...) but has no credits entry"],
  // limits
  ['throttle soft limit at the limit', RL + 'throttle: [{rule: rl, soft_limit: 10}]\n', 'ROXY_E_CONFIG_CONFLICT', 2, 35, "throttle[0].soft_limit (10) must be below the rule's rate_limit limit (10)"],
  ['credit soft limit above the limit', CR + 'credits: [{rule: cr, soft_limit: 101, reset_schedule: daily@00:00}]\n', 'ROXY_E_CONFIG_CONFLICT', 2, 34, 'credit limit (100)'],
  ['throttle without soft limit', RL + 'throttle: [{rule: rl}]\n', 'ROXY_E_CONFIG_MISSING', 2, 12, 'throttle[0].soft_limit is required'],
  ['throttle delay over 60 s', RL + 'throttle: [{rule: rl, soft_limit: 1, max_delay_ms: 60001}]\n', 'ROXY_E_CONFIG_RANGE', 2, 52, 'max_delay_ms must be from 0 to 60000'],
  ['credit delay over 60 s', CR + 'credits: [{rule: cr, max_delay_ms: 70000, reset_schedule: daily@00:00}]\n', 'ROXY_E_CONFIG_RANGE', 2, 36, 'max_delay_ms must be from 0 to 60000'],
  ['credits without schedule', CR + 'credits: [{rule: cr}]\n', 'ROXY_E_CONFIG_MISSING', 2, 11, 'credits[0].reset_schedule is required'],
  ['hourly schedule', CR + 'credits: [{rule: cr, reset_schedule: hourly@00:00}]\n', 'ROXY_E_CONFIG_INVALID', 2, 38, "expected 'daily@HH:MM'"],
  ['monthly day 29', CR + 'credits: [{rule: cr, reset_schedule: monthly@29-00:00}]\n', 'ROXY_E_CONFIG_INVALID', 2, 38, 'day of month 1..28'],
  ['weekly bad day', CR + 'credits: [{rule: cr, reset_schedule: weekly@Funday-10:00}]\n', 'ROXY_E_CONFIG_INVALID', 2, 38, 'Mon..Sun'],
  ['daily bad time', CR + 'credits: [{rule: cr, reset_schedule: daily@24:00}]\n', 'ROXY_E_CONFIG_INVALID', 2, 38, '00:00 to 23:59'],
  // headers
  ['header name with a space', MG + 'headers: [{rules: [mg], add: [{name: "X A", value: b}]}]\n', 'ROXY_E_CONFIG_INVALID', 2, 38, "'X A' is not a valid header name"],
  ['header value with CR LF', MG + 'headers: [{rules: [mg], add: [{name: X-A, value: "a\\r\\nX-B: c"}]}]\n', 'ROXY_E_CONFIG_INVALID', 2, 50, 'control character'],
  ['header value with NUL', MG + 'headers: [{rules: [mg], add: [{name: X-A, value: "a\\0"}]}]\n', 'ROXY_E_CONFIG_INVALID', 2, 50, 'control character'],
  ['header add without value', MG + 'headers: [{rules: [mg], add: [{name: X-A}]}]\n', 'ROXY_E_CONFIG_MISSING', 2, 31, 'headers[0].add[0].value is required'],
  ['bad name to remove', MG + 'headers: [{rules: [mg], remove: ["X:A"]}]\n', 'ROXY_E_CONFIG_INVALID', 2, 34, "'X:A' is not a valid header name"],
  // timeout pairs and both-or-neither
  ['h2 timeout at the interval', 'server_timeouts:\n  http2_keep_alive_interval_secs: 10\n  http2_keep_alive_timeout_secs: 10\n', 'ROXY_E_CONFIG_CONFLICT', 3, 34, 'must be above 0 and below server_timeouts.http2_keep_alive_interval_secs (10)'],
  ['h2 timeout 0', 'server_timeouts:\n  http2_keep_alive_timeout_secs: 0\n', 'ROXY_E_CONFIG_CONFLICT', 2, 34, 'server_timeouts.http2_keep_alive_timeout_secs (0)'],
  ['pool interval below default timeout', 'pool:\n  http2_keep_alive_interval_secs: 5\n', 'ROXY_E_CONFIG_CONFLICT', 2, 35, 'pool.http2_keep_alive_timeout_secs (10) must be above 0 and below pool.http2_keep_alive_interval_secs (5)'],
  ['age grace 0', 'server_timeouts: { max_connection_age_grace_secs: 0 }\n', 'ROXY_E_CONFIG_CONFLICT', 1, 51, 'max_connection_age_grace_secs (0) must be above 0'],
  ['age grace at the age', 'server_timeouts:\n  max_connection_age_secs: 30\n  max_connection_age_grace_secs: 30\n', 'ROXY_E_CONFIG_CONFLICT', 3, 34, 'below server_timeouts.max_connection_age_secs (30)'],
  ['keep-alive time 0', 'tcp_keepalive:\n  time_secs: 0\n', 'ROXY_E_CONFIG_CONFLICT', 2, 14, 'tcp_keepalive.time_secs must be above 0 while tcp_keepalive.enabled is true'],
  ['keep-alive interval 0', 'tcp_keepalive: { enabled: true, interval_secs: 0 }\n', 'ROXY_E_CONFIG_CONFLICT', 1, 48, 'tcp_keepalive.interval_secs must be above 0'],
  ['CA cert without key', 'tls:\n  ca_cert: ./ca.crt\n', 'ROXY_E_CONFIG_CONFLICT', 2, 12, 'tls.ca_cert is set without tls.ca_key'],
  ['CA key without cert', 'tls:\n  ca_key: ./ca.key\n', 'ROXY_E_CONFIG_CONFLICT', 2, 11, 'tls.ca_key is set without tls.ca_cert'],
  // other sections
  ['resolve to a name', 'resolve:\n  "*.test": localhost\n', 'ROXY_E_CONFIG_INVALID', 2, 13, "'localhost' for '*.test' is not an IP address"],
  ['empty bypass glob', 'mitm: { bypass: [""] }\n', 'ROXY_E_CONFIG_INVALID', 1, 18, 'mitm.bypass[0] must not be empty'],
  ['redis without scheme', 'state: { redis: "127.0.0.1:6379" }\n', 'ROXY_E_CONFIG_INVALID', 1, 17, 'redis:// or rediss:// URL'],
  ['metrics path relative', 'metrics: { path: metrics }\n', 'ROXY_E_CONFIG_INVALID', 1, 18, "must start with '/'"],
  ['metrics path taken', 'metrics: { path: /healthz }\n', 'ROXY_E_CONFIG_CONFLICT', 1, 18, 'already serves'],
  ['state path a list', 'state: { path: [a] }\n', 'ROXY_E_CONFIG_TYPE', 1, 16, 'state.path must be a string'],
  ['empty CA path', 'upstream_ca: ""\n', 'ROXY_E_CONFIG_INVALID', 1, 14, 'upstream_ca must be a file path'],
]

describe('given a file with one problem', () => {
  test.each(CASES)(
    '%s should be reported with code, line and column',
    (_, yaml, code, line, col, text) => {
      const problems = problemsOf(yaml)
      expect(problems).toHaveLength(1)
      expect(problems[0]).toMatchObject({ file: 'test.yaml', code, line, col })
      expect(problems[0].message).toContain(text)
    },
  )
})

describe('given a file with several problems', () => {
  const yaml = [
    'listen: "nope"', //                       1: invalid listen
    'pool:',
    '  max_idle_per_host: lots', //            3: type
    'rules:',
    "  - { name: a, rule: 'x = pass' }",
    "  - { name: a, rule: 'y = pass' }", //   6: duplicate name
    'throttle: [{rule: b, soft_limit: 1}]', // 7: unknown rule
    'tsl: {}', //                              8: unknown key
  ].join('\n')

  test('should report all of them together, in file order', () => {
    const codes = problemsOf(yaml).map((p) => [p.line, p.code])
    expect(codes).toEqual([
      [1, 'ROXY_E_CONFIG_INVALID'],
      [3, 'ROXY_E_CONFIG_TYPE'],
      [6, 'ROXY_E_CONFIG_DUPLICATE'],
      [7, 'ROXY_E_CONFIG_REFERENCE'],
      [8, 'ROXY_E_CONFIG_UNKNOWN_KEY'],
    ])
  })

  test('should throw one ConfigError whose message has a file:line:col line per problem', () => {
    expect.assertions(3)
    try {
      parseTest(yaml)
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      const lines = (err as ConfigError).message.split('\n')
      expect(lines).toHaveLength(5)
      expect(lines[4]).toBe("test.yaml:8:1: unknown key 'tsl' (did you mean 'tls'?)")
    }
  })
})

describe('given an injected schedule parser', () => {
  const yaml = CR + 'credits: [{rule: cr, reset_schedule: daily@00:00}]\n'

  test('should report its message at the schedule', () => {
    const parseSchedule = () => {
      throw new Error('no resets at midnight here')
    }
    const [problem] = problemsOf(yaml, { parseSchedule })
    expect(problem).toMatchObject({ code: 'ROXY_E_CONFIG_INVALID', line: 2, col: 38 })
    expect(problem.message).toBe('credits[0].reset_schedule: no resets at midnight here')
  })

  test('should be used instead of the local check', () => {
    const seen: string[] = []
    parseTest(yaml, { parseSchedule: (text) => void seen.push(text) })
    expect(seen).toEqual(['daily@00:00'])
  })
})

describe('given an inspector that throws', () => {
  test('should report it at the rule and still report the other problems', () => {
    const inspectRule = () => {
      throw new Error('boom')
    }
    const problems = problemsOf("rules: [{name: a, rule: 'x = pass'}]\ntsl: {}\n", { inspectRule })
    expect(problems.map((p) => [p.code, p.line, p.col])).toEqual([
      ['ROXY_E_RULE_SYNTAX', 1, 26],
      ['ROXY_E_CONFIG_UNKNOWN_KEY', 2, 1],
    ])
    expect(problems[0].message).toBe("rule 'a': the rule parser failed: boom")
  })
})

describe('given an inspector without limit figures', () => {
  test('should skip the soft-limit comparison rather than guess', () => {
    const inspectRule = () => ({
      ok: true as const,
      hasCredit: false,
      hasRateLimit: true,
      hasMangle: false,
    })
    const { config } = parseTest(RL + 'throttle: [{rule: rl, soft_limit: 500}]\n', { inspectRule })
    expect(config.throttle[0].softLimit).toBe(500)
  })
})

describe('given settings the runtime cannot honour', () => {
  // prettier-ignore
  test.each([
    ['keep-alive retries', 'tcp_keepalive: { retries: 3 }', {}, ['test.yaml:1:18: tcp_keepalive.retries is not applied']],
    ['keep-alive interval', 'tcp_keepalive:\n  interval_secs: 9', {}, ['test.yaml:2:3: tcp_keepalive.interval_secs is not applied']],
    ['h2 stream cap', 'server_timeouts: { http2_max_concurrent_streams: 9 }', {}, ['server_timeouts.http2_max_concurrent_streams is accepted but not applied']],
    ['h2 with support', 'server_timeouts: { http2_max_concurrent_streams: 9 }', { http2: true }, []],
    ['redis', 'state: { redis: "redis://127.0.0.1:6379" }', {}, ['state.redis is accepted but Redis is not supported']],
    ['redis with support', 'state: { redis: "redis://127.0.0.1:6379" }', { redis: true }, []],
    ['skip verify', 'unsafe_skip_verify: true', {}, ['unsafe_skip_verify is true: upstream certificates are not verified']],
    ['throttle on a rule without rate_limit', MG + 'throttle: [{rule: mg, soft_limit: 1}]', {}, ["rule 'mg' has no rate_limit(...), so this throttle never applies"]],
    ['headers on a rule without mangle', RL + 'headers: [{rules: [rl], remove: [X-A]}]', {}, ["rule 'rl' has no mangle action"]],
    ['defaults only', 'listen: "127.0.0.1:0"', {}, []],
  ])('%s should draw exactly the expected warnings', (_, yaml, supports, expected) => {
    const { warnings } = parseTest(yaml, { supports })
    expect(warnings).toHaveLength(expected.length)
    expected.forEach((text, i) => expect(warnings[i]).toContain(text))
  })
})

describe('given list items of the wrong shape', () => {
  // prettier-ignore
  test.each([
    ['a rule that is a list', 'rules: [[a]]', 'rules[0] must be a mapping of keys, got a list'],
    ['an empty rule item', 'rules:\n  -\n', 'rules[0] must be a mapping of keys, got nothing'],
    ['a header add that is text', MG + 'headers: [{rules: [mg], add: [X-A]}]', 'headers[0].add[0] must be a mapping of keys, got "X-A"'],
    ['a credits entry that is a number', 'credits: [3]', 'credits[0] must be a mapping of keys, got 3'],
  ])('%s should be one type problem, not a list of missing keys', (_, yaml, text) => {
    const problems = problemsOf(yaml)
    expect(problems).toHaveLength(1)
    expect(problems[0].code).toBe('ROXY_E_CONFIG_TYPE')
    expect(problems[0].message).toBe(text)
  })
})

describe('given a hostile file', () => {
  test('should report deep nesting as a syntax problem, not crash', () => {
    const [problem] = problemsOf('rules: ' + '['.repeat(50_000) + ']'.repeat(50_000))
    expect(problem.code).toBe('ROXY_E_CONFIG_SYNTAX')
  })

  test('should refuse more than 100 aliases', () => {
    const yaml = `a: &x X-A\nheaders: [{rules: [], remove: [${Array(101).fill('*x').join(', ')}]}]`
    const codes = problemsOf(yaml).map((p) => p.code)
    expect(codes).toContain('ROXY_E_CONFIG_INVALID')
  })
})
