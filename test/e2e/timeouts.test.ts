/**
 * Client-side time limits (SPEC §2 server_timeouts): slow heads, silent
 * CONNECT tunnels and connection age.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { httpUpstream, rawClient, splitResponses } from '../support/net.ts'
import { type RoxyProcess, startRoxy } from '../support/roxy.ts'

const upstream = httpUpstream(() => new Response('ok'))
let roxy: RoxyProcess

beforeAll(async () => {
  roxy = await startRoxy(`
listen: "127.0.0.1:0"
server_timeouts:
  http1_header_read_timeout_secs: 1
  connect_initial_read_timeout_secs: 1
  max_connection_age_secs: 2
  max_connection_age_grace_secs: 1
`)
})
afterAll(async () => {
  await roxy.stop('SIGKILL')
  upstream.stop()
})

describe('given slow or silent clients', () => {
  test('should answer 408 and close when a request head stalls', async () => {
    using client = await rawClient(roxy.port)
    client.send(`GET ${upstream.origin}/ HTTP/1.1\r\nHost: x\r\n`)
    expect(await client.waitClosed(4000)).toBe(true)
    expect(client.text).toStartWith('HTTP/1.1 408 ')
  })

  test('should close an idle keep-alive connection after the header timeout', async () => {
    using client = await rawClient(roxy.port)
    client.send(`GET ${upstream.origin}/ HTTP/1.1\r\nHost: x\r\n\r\n`)
    await client.read((t) => splitResponses(t).length === 1)
    expect(await client.waitClosed(4000)).toBe(true)
    expect(splitResponses(client.text).length).toBe(1)
  })

  test('should close a CONNECT that stays silent after the 200', async () => {
    using client = await rawClient(roxy.port)
    client.send(`CONNECT 127.0.0.1:${upstream.port} HTTP/1.1\r\n\r\n`)
    expect(await client.waitClosed(4000)).toBe(true)
  })
})

describe('given a connection older than max_connection_age_secs', () => {
  test('should stop serving new requests on it and close it', async () => {
    using client = await rawClient(roxy.port)
    // Keep it busy below the header timeout so only the age can close it.
    for (let i = 1; i <= 5; i++) {
      client.send(`GET ${upstream.origin}/${i} HTTP/1.1\r\nHost: x\r\n\r\n`)
      await client.read((t) => splitResponses(t).length === i || t.includes('close'))
      if (client.closed) {
        break
      }
      await Bun.sleep(600)
    }
    expect(client.closed).toBe(true)
    const served = splitResponses(client.text)
    expect(served.length).toBeGreaterThanOrEqual(3)
    expect(served.length).toBeLessThanOrEqual(5)
  })
})
