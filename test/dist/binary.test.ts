/**
 * The compiled executable that ships (SPEC §10): `make build` output, its
 * version line, and that it reads no `.env` from the directory it starts in.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pkg from '../../package.json' with { type: 'json' }
import { buildBinary, spawnLogging } from './binary.ts'

let binary = ''
let dir = ''

beforeAll(() => {
  binary = buildBinary()
  dir = mkdtempSync(join(tmpdir(), 'roxy-dist-'))
  writeFileSync(join(dir, 'roxy.yaml'), 'listen: "127.0.0.1:0"\n')
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('given dist/roxy from make build', () => {
  test('should print its version and the embedded Bun version', () => {
    const res = Bun.spawnSync([binary, '--version'], { stdout: 'pipe', timeout: 10_000 })
    expect(res.exitCode).toBe(0)
    expect(res.stdout.toString()).toBe(`roxy ${pkg.version} (bun ${Bun.version})\n`)
  })

  // The same bad ROXY_LOG value, from the real environment (a control that
  // shows the warning is observable) and from a .env file in the working
  // directory, which a compiled Bun program would load unless built with
  // --no-compile-autoload-dotenv.
  test.each<{ verb: string; source: string; env: Record<string, string>; dotenv: boolean }>([
    { verb: 'honour', source: 'the environment', env: { ROXY_LOG: 'x=7' }, dotenv: false },
    { verb: 'ignore', source: 'a .env file in the working directory', env: {}, dotenv: true },
  ])('should $verb ROXY_LOG from $source', async ({ verb, env, dotenv }) => {
    rmSync(join(dir, '.env'), { force: true })
    if (dotenv) {
      writeFileSync(join(dir, '.env'), 'ROXY_LOG=x=7\n')
    }
    const roxy = spawnLogging([binary, 'run', '-c', 'roxy.yaml'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    })
    let code: number
    try {
      await roxy.waitForLine((l) => l.msg === 'listening')
    } finally {
      code = await roxy.stop()
    }
    const warned = roxy.lines.some((l) => l.msg === 'ROXY_LOG entries not understood')
    expect(warned).toBe(verb === 'honour')
    expect(code).toBe(0)
  })
})
