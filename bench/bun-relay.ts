/**
 * The floor for any proxy written on Bun sockets: not a proxy, a relay.
 * Each client connection gets its own upstream connection; request lines in
 * absolute-form lose their scheme and authority, every other byte is copied
 * as it comes, both ways. No header parsing, no framing, no pool, no log.
 * Only right for the bench's traffic (small requests whose head arrives in
 * one read). Usage: bun bench/bun-relay.ts UPSTREAM_PORT; prints its port.
 */
import type { Socket } from 'bun'

interface Pair {
  upstream?: Socket<Pair>
  client: Socket<Pair>
  pending: Uint8Array[]
}

const upstreamPort = Number(process.argv[2])
const ABSOLUTE = /^([A-Z]+) http:\/\/[^/ ]+/gm

/** Rewrite every `METHOD http://authority/path` request line of a chunk to origin-form. */
function toOriginForm(chunk: Uint8Array): Uint8Array {
  const text = Buffer.from(chunk).toString('latin1')
  return Buffer.from(text.replace(ABSOLUTE, '$1 '), 'latin1')
}

const listener = Bun.listen<Pair>({
  hostname: '127.0.0.1',
  port: 0,
  socket: {
    open(client) {
      const pair: Pair = { client, pending: [] }
      client.data = pair
      void Bun.connect<Pair>({
        hostname: '127.0.0.1',
        port: upstreamPort,
        data: pair,
        socket: {
          open(upstream) {
            pair.upstream = upstream
            for (const chunk of pair.pending) {
              upstream.write(chunk)
            }
            pair.pending = []
          },
          data(upstream, chunk) {
            upstream.data.client.write(chunk)
          },
          close(upstream) {
            upstream.data.client.end()
          },
        },
      }).catch(() => client.end())
    },
    data(client, chunk) {
      const out = toOriginForm(chunk)
      if (client.data.upstream) {
        client.data.upstream.write(out)
      } else {
        client.data.pending.push(out)
      }
    },
    close(client) {
      client.data.upstream?.end()
    },
  },
})
process.stdout.write(`${listener.port}\n`)
