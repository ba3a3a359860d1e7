/**
 * The proxy never crashes on input it receives (brief: bad input gets a
 * clear answer and loses nothing). Mutated and random request bytes, sent
 * on real sockets, in a bounded loop; roxy must answer or close each, and
 * still serve a good request afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { curl, httpUpstream, rawClient } from '../support/net.ts'
import { type RoxyProcess, startRoxy } from '../support/roxy.ts'

const upstream = httpUpstream(() => new Response('fine'))
let roxy: RoxyProcess

beforeAll(async () => {
  roxy = await startRoxy(
    'listen: "127.0.0.1:0"\nserver_timeouts: { http1_header_read_timeout_secs: 1 }\n' +
      'upstream_timeouts: { idle_secs: 1 }\n',
    {
      env: { ROXY_LOG: 'info' },
    },
  )
})
afterAll(async () => {
  await roxy.stop('SIGKILL')
  upstream.stop()
})

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed >>> 0
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0
    return x / 2 ** 32
  }
}

const SEEDS = [
  () => `GET ${upstream.origin}/a HTTP/1.1\r\nHost: x\r\n\r\n`,
  () => `POST ${upstream.origin}/b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`,
  () =>
    `POST ${upstream.origin}/c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
  () => `CONNECT 127.0.0.1:${upstream.port} HTTP/1.1\r\n\r\n\x16\x03\x01\x00\x05hello`,
  () => `GET /healthz HTTP/1.0\r\n\r\n`,
]

function mutate(text: string, rnd: () => number): Uint8Array {
  const bytes = Buffer.from(text, 'latin1')
  const out = Array.from(bytes)
  const edits = 1 + Math.floor(rnd() * 6)
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rnd() * (out.length + 1))
    const op = rnd()
    if (op < 0.3) {
      out.splice(at, 1)
    } else if (op < 0.6) {
      out.splice(at, 0, Math.floor(rnd() * 256))
    } else if (op < 0.8) {
      out[at] = [13, 10, 0, 58, 32, 0x7f, 0x80, 0xff][Math.floor(rnd() * 8)]
    } else {
      out.splice(
        at,
        0,
        ...Buffer.from(['\r\n', ':', ' chunked', '\r\n\r\n', '0x'][Math.floor(rnd() * 5)]),
      )
    }
  }
  return Uint8Array.from(out)
}

describe('given mutated and random request bytes', () => {
  test('should answer or close every connection and keep serving', async () => {
    const rnd = random(20261204)
    const inputs = Array.from({ length: 200 }, (_, i) =>
      i % 10 === 9
        ? Uint8Array.from({ length: 200 }, () => Math.floor(rnd() * 256))
        : mutate(SEEDS[i % SEEDS.length](), rnd),
    )
    let answered = 0
    // 25 connections at a time; each gets an answer or is closed, at the latest
    // by the 1 s header or upstream timeout.
    for (let start = 0; start < inputs.length; start += 25) {
      const batch = inputs.slice(start, start + 25).map(async (bytes) => {
        using client = await rawClient(roxy.port)
        client.send(bytes)
        await client.read((t) => t.length > 0, 3000).catch(() => undefined)
        return client.text.length > 0 || client.closed
      })
      answered += (await Promise.all(batch)).filter(Boolean).length
    }
    expect(answered).toBe(inputs.length)
    expect(roxy.proc.exitCode).toBeNull()
    const res = await curl(['-x', roxy.url, `${upstream.origin}/after`])
    expect(res.stdout).toBe('fine')
  }, 120_000)
})
