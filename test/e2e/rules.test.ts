/**
 * Rule decisions end to end (SPEC §5, §8): block, pass, mangle and ternary
 * rules driven by curl, checked at the client, at the upstream and in the
 * JSON log lines.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { curl, httpUpstream } from '../support/net.ts'
import { type RoxyProcess, startRoxy } from '../support/roxy.ts'

const seen: Array<Record<string, string>> = []
const upstream = httpUpstream((req) => {
  seen.push(Object.fromEntries(req.headers))
  return new Response(`upstream ${req.method} ${new URL(req.url).pathname}`)
})
let roxy: RoxyProcess

const CONFIG = `
listen: "127.0.0.1:0"
resolve:
  "*.test": 127.0.0.1
mitm:
  bypass: ["bypass.test"]
rules:
  - name: no-admin
    rule: path("/admin/*") = block
  - name: quiet
    rule: path("/quiet") = pass
    log_level: off
  - name: tagged
    rule: host("api.test") && header("X-Key") && header("Authorization") = mangle
  - name: need-key
    rule: host("api.test") && !header("X-Key") = block
  - name: gets-only
    rule: "method(GET) = pass : block"
headers:
  - rules: [tagged]
    add: [{ name: X-Roxy-Tag, value: api }]
    remove: [X-Debug]
`

beforeAll(async () => {
  roxy = await startRoxy(CONFIG, { env: { ROXY_LOG: 'info' } })
})
afterAll(async () => {
  await roxy.stop('SIGKILL')
  upstream.stop()
})

const url = (host: string, path: string) => `http://${host}:${upstream.port}${path}`

describe('given a config mixing block, pass, mangle and ternary rules', () => {
  test('should block /admin/* with 403 Not Allowed and send nothing upstream', async () => {
    const before = seen.length
    const res = await curl(['-x', roxy.url, '-i', url('web.test', '/admin/users')])
    expect(res.stdout).toStartWith('HTTP/1.1 403 ')
    expect(res.stdout).toEndWith('Not Allowed')
    expect(seen.length).toBe(before)
    const line = await roxy.waitForLog((l) => l.path === '/admin/users')
    expect([line.rule, line.action, line.status]).toEqual(['no-admin', 'block', 403])
  })

  test('should mangle headers, log referenced headers and redact the secret ones', async () => {
    const res = await curl([
      '-x',
      roxy.url,
      '-H',
      'X-Key: k-123',
      '-H',
      'Authorization: Bearer hunter2',
      '-H',
      'X-Debug: 1',
      url('api.test', '/v1/items'),
    ])
    expect(res.stdout).toBe('upstream GET /v1/items')
    const got = seen.at(-1)!
    expect(got['x-roxy-tag']).toBe('api')
    expect(got['x-debug']).toBeUndefined()
    expect(got['authorization']).toBe('Bearer hunter2')
    const line = await roxy.waitForLog((l) => l.path === '/v1/items')
    expect([line.rule, line.action, line.status]).toEqual(['tagged', 'forward', 200])
    expect(line.headers).toEqual({ 'X-Key': 'k-123', Authorization: '[redacted]' })
    expect(JSON.stringify(roxy.logs)).not.toContain('hunter2')
  })

  test('should block api.test without X-Key through the next rule', async () => {
    const res = await curl(['-x', roxy.url, '-i', url('api.test', '/v1/nokey')])
    expect(res.stdout).toStartWith('HTTP/1.1 403 ')
    const line = await roxy.waitForLog((l) => l.path === '/v1/nokey')
    expect(line.rule).toBe('need-key')
  })

  test('should pass GET and block POST through the ternary else branch', async () => {
    const get = await curl(['-x', roxy.url, '-i', url('web.test', '/page')])
    expect(get.stdout).toStartWith('HTTP/1.1 200 ')
    const post = await curl(['-x', roxy.url, '-i', '-d', 'x', url('web.test', '/form')])
    expect(post.stdout).toStartWith('HTTP/1.1 403 ')
    const line = await roxy.waitForLog((l) => l.path === '/form')
    expect([line.rule, line.action]).toEqual(['gets-only', 'block'])
  })

  test('should drop the log line of a rule at log_level off', async () => {
    const res = await curl(['-x', roxy.url, url('web.test', '/quiet')])
    expect(res.stdout).toBe('upstream GET /quiet')
    await curl(['-x', roxy.url, url('web.test', '/after-quiet')])
    await roxy.waitForLog((l) => l.path === '/after-quiet')
    expect(roxy.logs.some((l) => l.path === '/quiet')).toBe(false)
  })

  test('should rule a CONNECT to a bypassed host once, answering 403 when blocked', async () => {
    const res = await curl(['-x', roxy.url, '-p', '-i', url('bypass.test', '/tunnelled')])
    // curl -p tunnels plain HTTP through CONNECT: the ternary's else blocks method CONNECT.
    expect(res.stdout + res.stderr).toContain('403')
    const line = await roxy.waitForLog((l) => l.method === 'CONNECT' && l.host === 'bypass.test')
    expect([line.rule, line.action, line.path]).toEqual(['gets-only', 'block', '/'])
  })

  test('should rule a non-TLS tunnel once after the 200 and close it when blocked', async () => {
    const before = seen.length
    const res = await curl(['-x', roxy.url, '-p', url('web.test', '/not-tls')])
    expect(res.code).not.toBe(0)
    expect(seen.length).toBe(before)
    const line = await roxy.waitForLog((l) => l.method === 'CONNECT' && l.host === 'web.test')
    expect([line.rule, line.action]).toEqual(['gets-only', 'block'])
  })
})
