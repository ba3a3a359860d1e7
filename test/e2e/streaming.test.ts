/**
 * Bodies stream through roxy with backpressure: 50 MiB each way while the
 * proxy's peak RSS stays under 100 MiB (SPEC §3: memory per connection is
 * bounded regardless of body size).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { curl, httpUpstream } from '../support/net.ts'
import { type RoxyProcess, startRoxy, tempDir } from '../support/roxy.ts'

const MIB = 1024 * 1024
const SIZE = 50 * MIB
const RSS_LIMIT = 100 * MIB

/** Deterministic, incompressible-looking bytes. */
function block(seed: number): Uint8Array {
  const out = new Uint8Array(MIB)
  let x = seed * 2654435761
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

const blocks = Array.from({ length: 4 }, (_, i) => block(i + 1))
const expectedHash = (() => {
  const h = createHash('sha256')
  for (let i = 0; i < SIZE / MIB; i++) {
    h.update(blocks[i % 4])
  }
  return h.digest('hex')
})()

let roxy: RoxyProcess
const upstream = httpUpstream(async (req) => {
  const url = new URL(req.url)
  if (url.pathname === '/download') {
    let i = 0
    const stream = new ReadableStream({
      pull(controller) {
        if (i === SIZE / MIB) {
          controller.close()
          return
        }
        controller.enqueue(blocks[i++ % 4])
      },
    })
    return new Response(stream, { headers: { 'Content-Length': String(SIZE) } })
  }
  // Upload: read slowly so roxy must hold the client back.
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of req.body!) {
    hash.update(chunk)
    bytes += chunk.length
    if (bytes % (4 * MIB) < chunk.length) {
      await Bun.sleep(5)
    }
  }
  return Response.json({ bytes, sha256: hash.digest('hex') })
})

beforeAll(async () => {
  roxy = await startRoxy('listen: "127.0.0.1:0"\n', { env: { ROXY_LOG: 'info' } })
})
afterAll(async () => {
  await roxy.stop('SIGKILL')
  upstream.stop()
})

describe('given 50 MiB bodies', () => {
  test('should stream a download to a slow client with bounded memory', async () => {
    const res = await curl(
      ['-x', roxy.url, '--limit-rate', '40M', '-o', '-', `${upstream.origin}/download`],
      60_000,
    ).then(async (r) => r)
    expect(res.code).toBe(0)
    expect(res.stdout.length).toBeGreaterThan(0)
    const line = await roxy.waitForLog((l) => l.path === '/download')
    expect(line.bytes).toBe(SIZE)
    expect(roxy.peakRss()).toBeLessThan(RSS_LIMIT)
  }, 60_000)

  test('should stream the exact bytes of a download', async () => {
    const proc = Bun.spawn(
      ['sh', '-c', `curl -sS -x ${roxy.url} ${upstream.origin}/download | sha256sum`],
      {
        stdout: 'pipe',
      },
    )
    const out = await new Response(proc.stdout).text()
    expect(out.split(' ')[0]).toBe(expectedHash)
    expect(roxy.peakRss()).toBeLessThan(RSS_LIMIT)
  }, 60_000)

  test.each([
    ['Content-Length', []],
    ['chunked', ['-H', 'Transfer-Encoding: chunked']],
  ])(
    'should stream a %s upload to a slow upstream with bounded memory',
    async (_kind, extra) => {
      const file = join(tempDir(), 'upload.bin')
      const parts: Uint8Array[] = []
      for (let i = 0; i < SIZE / MIB; i++) {
        parts.push(blocks[i % 4])
      }
      writeFileSync(file, Buffer.concat(parts))
      const res = await curl(
        ['-x', roxy.url, ...extra, '--data-binary', `@${file}`, `${upstream.origin}/upload`],
        60_000,
      )
      expect(res.code).toBe(0)
      const seen = JSON.parse(res.stdout)
      expect(seen.bytes).toBe(SIZE)
      expect(seen.sha256).toBe(expectedHash)
      expect(roxy.peakRss()).toBeLessThan(RSS_LIMIT)
    },
    60_000,
  )
})
