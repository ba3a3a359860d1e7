/**
 * The command line and the process life (SPEC §1): exit codes, the
 * built-in default, graceful shutdown.
 */
import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import pkg from '../../package.json' with { type: 'json' }
import { curl, httpUpstream } from '../support/net.ts'
import { runRoxy, startRoxy, tempDir } from '../support/roxy.ts'

describe('given informational flags', () => {
  test('should print usage for --help and exit 0', async () => {
    const res = await runRoxy(['--help'])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('roxy check -c FILE')
  })

  test('should print the version and the Bun version for --version', async () => {
    const res = await runRoxy(['--version'])
    expect(res.code).toBe(0)
    expect(res.stdout).toBe(`roxy ${pkg.version} (bun ${Bun.version})\n`)
  })

  test('should exit 1 on an unknown command', async () => {
    const res = await runRoxy(['frobnicate'])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('unknown command')
  })
})

describe('given a broken config file', () => {
  test('should exit 1 naming the file, line and column of each problem', async () => {
    const config = join(tempDir(), 'broken.yaml')
    writeFileSync(
      config,
      'listen: "127.0.0.1:0"\npool:\n  max_idle_per_hots: 3\nshutdown_grace_secs: -1\n',
    )
    const res = await runRoxy(['run', '-c', config])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`${config}:3:3:`)
    expect(res.stderr).toContain("did you mean 'max_idle_per_host'")
    expect(res.stderr).toContain(`${config}:4:`)
  })

  test('should exit 1 on a YAML syntax error with its position', async () => {
    const config = join(tempDir(), 'syntax.yaml')
    writeFileSync(config, 'listen: "127.0.0.1:0"\nrules: [ { name: a\n')
    const res = await runRoxy(['run', '-c', config])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(new RegExp(`${config}:\\d+:\\d+:`))
  })

  test('should exit 1 when the file named with -c is missing', async () => {
    const res = await runRoxy(['run', '-c', '/nonexistent/roxy.yaml'])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('/nonexistent/roxy.yaml')
  })
})

describe('given a port that is already taken', () => {
  test('should exit 2 naming the port', async () => {
    const holder = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    try {
      const dir = tempDir()
      const config = join(dir, 'roxy.yaml')
      writeFileSync(config, `listen: "127.0.0.1:${holder.port}"\n`)
      const res = await runRoxy(['run', '-c', config])
      expect(res.code).toBe(2)
      expect(res.stderr).toContain(`127.0.0.1:${holder.port}`)
      expect(res.stderr).toContain('in use')
    } finally {
      holder.stop(true)
    }
  })
})

describe('given SIGTERM during a slow request', () => {
  test('should let the request finish, then exit 0', async () => {
    using up = httpUpstream(async () => {
      await Bun.sleep(600)
      return new Response('finished')
    })
    const roxy = await startRoxy('listen: "127.0.0.1:0"\n')
    const pending = curl(['-x', roxy.url, `${up.origin}/slow`])
    await roxy.waitForLog((l) => l.level === 'debug' || l.msg === 'listening')
    await Bun.sleep(150)
    roxy.proc.kill('SIGTERM')
    const res = await pending
    expect(res.stdout).toBe('finished')
    expect(await roxy.proc.exited).toBe(0)
    const refused = await curl(['-x', roxy.url, `${up.origin}/after`])
    expect(refused.code).not.toBe(0)
  })
})
