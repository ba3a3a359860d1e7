/**
 * Hot reload (SPEC §7) and observability (SPEC §8): rules swap on SIGHUP
 * and on the poll, counters survive, a broken file is refused; metrics and
 * the runtime line report real figures.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { curl, httpUpstream } from '../support/net.ts'
import { startRoxy } from '../support/roxy.ts'

const upstream = httpUpstream(() => new Response('ok'))

/**
 * Minute windows are aligned to UTC minutes: a burst straddling a boundary is
 * weighted across two windows (SPEC §6), so counts here start well inside one.
 */
async function avoidMinuteEdge(): Promise<void> {
  const intoMinute = Date.now() % 60_000
  if (intoMinute > 50_000) {
    await Bun.sleep(60_000 - intoMinute + 100)
  }
}
afterAll(() => upstream.stop())

const config = (limit: number, extra = '') => `
listen: "127.0.0.1:0"
reload_interval_secs: ${extra ? 1 : 0}
runtime_metrics: { interval_secs: 1 }
state: { path: ":memory:" }
rules:
  - name: limited
    rule: path("/r") = rate_limit(${limit}/m, ip)
${extra}`

describe('given a running roxy whose config file changes', () => {
  test('should apply a raised limit on SIGHUP without resetting the count', async () => {
    await avoidMinuteEdge()
    const roxy = await startRoxy(config(2))
    try {
      const hit = () => curl(['-x', roxy.url, '-i', `${upstream.origin}/r`])
      expect((await hit()).stdout).toStartWith('HTTP/1.1 200 ')
      expect((await hit()).stdout).toStartWith('HTTP/1.1 200 ')
      expect((await hit()).stdout).toStartWith('HTTP/1.1 429 ')
      writeFileSync(roxy.configPath, config(5))
      roxy.proc.kill('SIGHUP')
      await roxy.waitForLog((l) => l.target === 'reload' && l.msg === 'config applied')
      const after = await hit()
      expect(after.stdout).toStartWith('HTTP/1.1 200 ')
      expect(after.stdout).toContain('X-RateLimit-Limit: 5')
      expect(after.stdout).toContain('X-RateLimit-Remaining: 2')
    } finally {
      await roxy.stop('SIGKILL')
    }
  })

  test('should keep the running rules when the new file is broken, and log every error', async () => {
    await avoidMinuteEdge()
    const roxy = await startRoxy(config(1))
    try {
      writeFileSync(
        roxy.configPath,
        config(1).replace('rate_limit(1/m, ip)', 'rate_limit(1/x, ip)'),
      )
      roxy.proc.kill('SIGHUP')
      const line = await roxy.waitForLog(
        (l) => l.msg === 'config rejected; keeping the running config',
      )
      expect(JSON.stringify(line.errors)).toContain(`${roxy.configPath}:`)
      await curl(['-x', roxy.url, `${upstream.origin}/r`])
      const second = await curl(['-x', roxy.url, '-i', `${upstream.origin}/r`])
      expect(second.stdout).toStartWith('HTTP/1.1 429 ')
    } finally {
      await roxy.stop('SIGKILL')
    }
  })

  test('should pick up a change by polling when reload_interval_secs is set', async () => {
    const roxy = await startRoxy(config(1, '# poll\n'))
    try {
      await curl(['-x', roxy.url, `${upstream.origin}/r`])
      writeFileSync(roxy.configPath, config(1, '  - name: blocked\n    rule: path("/b") = block\n'))
      await roxy.waitForLog((l) => l.msg === 'config applied', 5000)
      const res = await curl(['-x', roxy.url, '-i', `${upstream.origin}/b`])
      expect(res.stdout).toStartWith('HTTP/1.1 403 ')
    } finally {
      await roxy.stop('SIGKILL')
    }
  })
})

describe('given the metrics path and runtime_metrics', () => {
  test('should count requests by rule and action and report runtime figures', async () => {
    await avoidMinuteEdge()
    const roxy = await startRoxy(config(1))
    try {
      await curl(['-x', roxy.url, `${upstream.origin}/r`])
      await curl(['-x', roxy.url, `${upstream.origin}/r`])
      await curl(['-x', roxy.url, `${upstream.origin}/other`])
      const text = (await curl([`${roxy.url}/metrics`])).stdout
      expect(text).toContain('roxy_requests_total{rule="limited",action="forward"} 1')
      expect(text).toContain('roxy_requests_total{rule="limited",action="rate_limited"} 1')
      expect(text).toContain('roxy_requests_total{rule="",action="forward"} 1')
      expect(text).toContain('roxy_request_duration_seconds_count 3')
      expect(text).toMatch(/process_resident_memory_bytes [1-9]\d+/)
      const line = await roxy.waitForLog((l) => l.target === 'runtime' && l.msg === 'metrics', 4000)
      expect(Number(line.rss_bytes)).toBeGreaterThan(0)
      expect(line.counter_keys).toBeGreaterThanOrEqual(1)
      expect(line).toHaveProperty('event_loop_delay_ms')
    } finally {
      await roxy.stop('SIGKILL')
    }
  })
})
