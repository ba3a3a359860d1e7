/**
 * Rate limits, throttling and credit budgets end to end (SPEC §6), with
 * credits kept across restarts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { curl, httpUpstream, rawClient, splitResponses } from '../support/net.ts'
import { type RoxyProcess, startRoxy, tempDir } from '../support/roxy.ts'

const upstream = httpUpstream((req) => new Response(`ok ${new URL(req.url).pathname}`))
afterAll(() => upstream.stop())

const CONFIG = `
listen: "127.0.0.1:0"
resolve:
  "*.test": 127.0.0.1
rules:
  - name: by-id
    rule: path("/id/*") = rate_limit(5/s, header(X-Id))
  - name: a
    rule: path("/a") = rate_limit(5/m, ip)
  - name: b
    rule: path("/b") = rate_limit(5/m, ip)
  - name: slow
    rule: path("/slow") = rate_limit(20/m, ip)
  - name: budget
    rule: path("/paid/*") = credit(3/d, header(X-User))
throttle:
  - rule: slow
    soft_limit: 2
    max_delay_ms: 1600
credits:
  - rule: budget
    reset_schedule: daily@00:00
    message: "Budget spent; resets at {reset_time}"
`

/** Minute windows: start well inside a UTC minute so a test's requests share one window. */
async function avoidMinuteEdge(): Promise<void> {
  const intoMinute = Date.now() % 60_000
  if (intoMinute > 50_000) {
    await Bun.sleep(60_000 - intoMinute + 100)
  }
}

/** Wait until just after a second boundary so a burst stays in one window. */
async function alignToSecond(): Promise<void> {
  const ms = Date.now() % 1000
  await Bun.sleep(ms < 50 ? 0 : 1005 - ms)
}

/** Send `paths` pipelined on one connection; returns the parsed responses. */
async function burst(port: number, requests: Array<{ path: string; headers?: string }>) {
  await alignToSecond()
  using client = await rawClient(port)
  client.send(
    requests.map((r) => `GET ${r.path} HTTP/1.1\r\nHost: x\r\n${r.headers ?? ''}\r\n`).join(''),
  )
  const text = await client.read((t) => splitResponses(t).length === requests.length)
  return splitResponses(text)
}

describe('given rate limits', () => {
  let roxy: RoxyProcess
  beforeAll(async () => {
    roxy = await startRoxy(CONFIG, { env: { ROXY_LOG: 'info' } })
  })
  afterAll(async () => {
    await roxy.stop('SIGKILL')
  })
  const url = (path: string) => `http://api.test:${upstream.port}${path}`

  test('should answer the sixth request in a second with 429 and Retry-After', async () => {
    const responses = await burst(
      roxy.port,
      Array.from({ length: 6 }, () => ({ path: url('/id/x'), headers: 'X-Id: user-1\r\n' })),
    )
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429])
    expect(responses[0].head).toContain('X-RateLimit-Limit: 5')
    expect(responses[0].head).toContain('X-RateLimit-Remaining: 4')
    const last = responses[5]
    expect(last.body).toBe('Rate limit exceeded')
    expect(last.head).toMatch(/\r\nRetry-After: [1-9]\d*/)
    expect(last.head).toContain('X-RateLimit-Remaining: 0')
  })

  test('should still limit one IP that rotates X-Id values (IP baseline)', async () => {
    await Bun.sleep(2100) // let the earlier burst's windows pass
    const responses = await burst(
      roxy.port,
      Array.from({ length: 6 }, (_, i) => ({
        path: url('/id/y'),
        headers: `X-Id: rotate-${i}\r\n`,
      })),
    )
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429])
  })

  test('should keep separate counts for two rules with the same key', async () => {
    await avoidMinuteEdge()
    const five = Array.from({ length: 5 }, () => ({ path: url('/a') }))
    const responses = await burst(roxy.port, [
      ...five,
      ...five.map(() => ({ path: url('/b') })),
      { path: url('/a') },
    ])
    expect(responses.map((r) => r.status)).toEqual([...Array(10).fill(200), 429])
  })

  test('should delay a throttled request while another rule answers at once', async () => {
    await avoidMinuteEdge()
    // Requests 1-2 are under the soft limit; request n waits (n - 2) / 18 * 1600 ms.
    for (let i = 0; i < 5; i++) {
      await curl(['-x', roxy.url, url('/slow')])
    }
    const order: string[] = []
    const started = performance.now()
    const slow = curl(['-x', roxy.url, url('/slow')]).then((r) => {
      order.push('slow')
      return performance.now() - started
    })
    await Bun.sleep(20)
    const fast = curl(['-x', roxy.url, url('/other')]).then(() => {
      order.push('fast')
    })
    const [slowMs] = await Promise.all([slow, fast])
    // The sixth request: (6 - 2) / 18 * 1600 ≈ 356 ms.
    expect(slowMs).toBeGreaterThanOrEqual(300)
    expect(order).toEqual(['fast', 'slow'])
  })
})

describe('given a credit budget', () => {
  const dir = tempDir()
  const url = (path: string) => `http://api.test:${upstream.port}${path}`
  const spend = (roxy: RoxyProcess, user: string) =>
    curl(['-x', roxy.url, '-i', '-H', `X-User: ${user}`, url('/paid/call')])

  test('should answer the configured message with the next reset time once spent', async () => {
    const roxy = await startRoxy(CONFIG, { dir })
    try {
      const answers = []
      for (let i = 0; i < 4; i++) {
        answers.push((await spend(roxy, 'alice')).stdout)
      }
      expect(answers[0]).toContain('X-Credit-Remaining: 2')
      expect(answers[2]).toContain('X-Credit-Remaining: 0')
      const next = new Date()
      next.setUTCHours(24, 0, 0, 0)
      const reset = next.toISOString().replace('.000Z', 'Z')
      expect(answers[3]).toStartWith('HTTP/1.1 429 ')
      expect(answers[3]).toEndWith(`Budget spent; resets at ${reset}`)
      expect(answers[3]).toMatch(/\r\nRetry-After: \d+/)
    } finally {
      await roxy.stop('SIGKILL')
    }
  })

  test('should keep the balance across SIGTERM and a restart', async () => {
    const first = await startRoxy(CONFIG, { dir })
    expect((await spend(first, 'bob')).stdout).toContain('X-Credit-Remaining: 2')
    expect(await first.stop('SIGTERM')).toBe(0)
    const second = await startRoxy(CONFIG, { dir })
    try {
      expect((await spend(second, 'bob')).stdout).toContain('X-Credit-Remaining: 1')
    } finally {
      await second.stop('SIGKILL')
    }
  })

  test('should lose at most the last second of use after kill -9', async () => {
    const first = await startRoxy(CONFIG, { dir })
    expect((await spend(first, 'carol')).stdout).toContain('X-Credit-Remaining: 2')
    expect((await spend(first, 'carol')).stdout).toContain('X-Credit-Remaining: 1')
    await Bun.sleep(1300) // one write-behind period
    await first.stop('SIGKILL')
    const second = await startRoxy(CONFIG, { dir })
    try {
      expect((await spend(second, 'carol')).stdout).toContain('X-Credit-Remaining: 0')
    } finally {
      await second.stop('SIGKILL')
    }
  })
})
