/**
 * The container image would start (SPEC §10), shown without a container
 * engine: scripts/make-rootfs.sh assembles the image's root filesystem (the
 * same script the Dockerfile's build stage runs), /proc and /dev are mounted
 * into it, and dist/roxy runs there under chroot as uid 65532, the image's
 * USER. It must answer /healthz and forward a request to a loopback upstream.
 *
 * The config is a test file inside the root listening on 127.0.0.1:0, not the
 * shipped /etc/roxy/config.yaml (0.0.0.0:8080). dist/roxy comes from
 * `make build`, which reuses the binary when nothing under src/ is newer.
 * Needs root (mount, chroot); skipped with the reason otherwise.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { curl, httpUpstream } from '../support/net.ts'
import type { LoggingProcess } from './binary.ts'
import { buildBinary, spawnLogging } from './binary.ts'
import { assembleRoot, findChrootSkipReason, mountSystemDirs, removeRoot } from './chroot-root.ts'

const UID = 65532
const TEST_CONFIG = '/etc/roxy/chroot-test.yaml'
const skipReason = findChrootSkipReason()

let root = ''
let roxy: LoggingProcess | undefined
let upstream: ReturnType<typeof httpUpstream> | undefined
let proxyUrl = ''

beforeAll(async () => {
  if (skipReason !== undefined) {
    return
  }
  const binary = buildBinary()
  root = assembleRoot(binary)
  mountSystemDirs(root)
  writeFileSync(join(root, TEST_CONFIG), 'listen: "127.0.0.1:0"\n')
  upstream = httpUpstream((req) => new Response(`upstream saw ${new URL(req.url).pathname}`))
  roxy = spawnLogging(
    ['chroot', `--userspec=${UID}:${UID}`, root, '/roxy', 'run', '-c', TEST_CONFIG],
    { env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin', ROXY_LOG: 'info', TMPDIR: '/tmp' } },
  )
  const listening = await roxy.waitForLine((l) => l.msg === 'listening')
  proxyUrl = `http://127.0.0.1:${String(listening.address).split(':').pop()}`
})

afterAll(async () => {
  await roxy?.stop('SIGKILL', 2_000)
  upstream?.stop()
  if (root) {
    removeRoot(root)
  }
})

const title = 'given the image root filesystem started with chroot'
describe.skipIf(skipReason !== undefined)(
  skipReason === undefined ? title : `${title} (skipped: ${skipReason})`,
  () => {
    test('should hold the executable, its loader and libraries, CA roots and the config', () => {
      const libs = listLinkedLibraries(join(root, 'roxy'))
      expect(libs.length).toBeGreaterThan(0)
      for (const path of ['/roxy', '/etc/roxy/config.yaml', ...libs]) {
        expect(existsSync(join(root, path))).toBe(true)
      }
      const bundle = readFileSync(join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')
      expect(bundle).toContain('-----BEGIN CERTIFICATE-----')
      expect(existsSync(join(root, 'bin/sh'))).toBe(false)
    })

    test('should give /var/lib/roxy to the uid and make /tmp sticky and world-writable', () => {
      const state = statSync(join(root, 'var/lib/roxy'))
      expect([state.uid, state.gid, state.mode & 0o7777]).toEqual([UID, UID, 0o700])
      expect(statSync(join(root, 'tmp')).mode & 0o7777).toBe(0o1777)
      expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).toContain(`:${UID}:${UID}:`)
    })

    test('should run the proxy as the non-root uid', () => {
      const status = readFileSync(`/proc/${roxy!.proc.pid}/status`, 'utf8')
      expect(status).toMatch(new RegExp(`^Uid:\\s+${UID}\\s+${UID}\\s+${UID}\\s+${UID}$`, 'm'))
      expect(status).toMatch(new RegExp(`^Gid:\\s+${UID}\\s`, 'm'))
    })

    test('should answer /healthz with ok', async () => {
      const res = await curl([`${proxyUrl}/healthz`])
      expect(res.stdout).toBe('ok\n')
    })

    test('should forward a request to a loopback upstream', async () => {
      const res = await curl(['-x', proxyUrl, `${upstream!.origin}/through-the-image`])
      expect(res.stdout).toBe('upstream saw /through-the-image')
    })

    test('should exit 0 on SIGTERM', async () => {
      expect(await roxy!.stop('SIGTERM')).toBe(0)
      expect(roxy!.lines.some((l) => l.msg === 'shutting down')).toBe(true)
    })
  },
)

/** Absolute paths `ldd` prints for `binary` (libraries and the loader). */
function listLinkedLibraries(binary: string): string[] {
  const out = Bun.spawnSync(['ldd', binary], { stdout: 'pipe', timeout: 10_000 }).stdout.toString()
  return [...out.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((m) => m[1])
}
