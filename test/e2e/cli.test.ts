/**
 * The command line and the process life (SPEC §1): exit codes, the
 * built-in default, graceful shutdown.
 */
import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
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

describe('given roxy check, explain and ca init', () => {
  const dir = tempDir()
  const config = join(dir, 'rules.yaml')
  writeFileSync(
    config,
    [
      'listen: "127.0.0.1:0"',
      'rules:',
      '  - name: no-admin',
      '    rule: path("/admin/*") = block',
      '  - name: api',
      '    rule: host("api.test") && header("X-Key") = rate_limit(5/s, header(X-Key)) + mangle',
      '  - name: gets',
      '    rule: "method(GET) = pass : block"',
      '  - name: dead',
      '    rule: host(x) = pass',
      'headers:',
      '  - rules: [api]',
      '    add: [{ name: X-Via-Roxy, value: "1" }]',
      '',
    ].join('\n'),
  )

  test('check should exit 0 and warn about an unreachable rule', async () => {
    const res = await runRoxy(['check', '-c', config])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('rule "dead" (#4) is unreachable')
    expect(res.stdout).toContain('would start')
  })

  test('check should exit 1 on a rule syntax error, naming line and column', async () => {
    const bad = join(dir, 'bad-rule.yaml')
    writeFileSync(bad, 'rules:\n  - name: broken\n    rule: path("/x") = blok\n')
    const res = await runRoxy(['check', '-c', bad])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(new RegExp(`${bad}:3:\\d+: .*broken`))
  })

  test('check should exit 1 on a bad host glob in mitm.bypass, naming its position', async () => {
    const bad = join(dir, 'bad-glob.yaml')
    writeFileSync(bad, 'mitm:\n  bypass: ["ok.test", "[abc"]\n')
    const res = await runRoxy(['check', '-c', bad])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`${bad}:2:23: mitm.bypass[1]: bad host glob '[abc'`)
  })

  test('explain should name the deciding rule, the key and the header changes', async () => {
    const res = await runRoxy(['explain', '-c', config, 'http://api.test/v1', '-H', 'X-Key: k1'])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('decision: rule "api" (#2, then)')
    expect(res.stdout).toContain('add X-Via-Roxy: 1')
    const post = await runRoxy(['explain', '-c', config, 'http://web.test/', '-X', 'POST'])
    expect(post.stdout).toContain('decision: rule "gets" (#3, else): block')
  })

  test('ca init should write a 0600 key, refuse to overwrite, and give a CA roxy can use', async () => {
    const out = join(dir, 'ca')
    const first = await runRoxy(['ca', 'init', '--out', out])
    expect(first.code).toBe(0)
    expect(statSync(join(out, 'ca.key')).mode & 0o777).toBe(0o600)
    const again = await runRoxy(['ca', 'init', '--out', out])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('--force')
    using origin = httpUpstream(() => new Response('plain'))
    const roxy = await startRoxy(
      `listen: "127.0.0.1:0"\ntls:\n  ca_cert: ${join(out, 'ca.crt')}\n  ca_key: ${join(out, 'ca.key')}\n`,
    )
    try {
      const served = await curl([`${roxy.url}/ca.pem`])
      expect(served.stdout).toBe(readFileSync(join(out, 'ca.crt'), 'utf8'))
      expect((await curl(['-x', roxy.url, `${origin.origin}/`])).stdout).toBe('plain')
    } finally {
      await roxy.stop('SIGKILL')
    }
  })
})
