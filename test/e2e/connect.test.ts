/**
 * CONNECT tunnels (SPEC §3): without interception the bytes are relayed
 * raw, so the client sees the origin's own certificate.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { makeTestPki, httpsUpstream } from '../support/certs.ts'
import { curl, rawClient } from '../support/net.ts'
import { type RoxyProcess, startRoxy } from '../support/roxy.ts'

const pki = makeTestPki()
const origin = httpsUpstream(pki, (req) => new Response(`secure ${new URL(req.url).pathname}`))
let roxy: RoxyProcess

beforeAll(async () => {
  roxy = await startRoxy(
    'listen: "127.0.0.1:0"\nresolve:\n  "origin.test": 127.0.0.1\nmitm:\n  bypass: ["origin.test"]\n',
  )
})
afterAll(async () => {
  await roxy.stop('SIGKILL')
  origin.stop()
})

describe('given a CONNECT tunnel to a local TLS server', () => {
  test('should carry curl through with the origin certificate', async () => {
    const res = await curl([
      '-x',
      roxy.url,
      '--cacert',
      pki.caCertPath,
      `https://origin.test:${origin.port}/tunnel`,
    ])
    expect(res.stderr).toBe('')
    expect(res.stdout).toBe('secure /tunnel')
    const line = await roxy.waitForLog((l) => l.msg === 'tunnel' && l.host === 'origin.test')
    expect(line.action).toBe('tunnel')
    expect(Number(line.bytes)).toBeGreaterThan(0)
  })

  test('should answer 502 when a bypassed tunnel target refuses', async () => {
    using client = await rawClient(roxy.port)
    client.send('CONNECT origin.test:1 HTTP/1.1\r\nHost: origin.test:1\r\n\r\n')
    expect(await client.waitClosed()).toBe(true)
    expect(client.text).toStartWith('HTTP/1.1 502 ')
  })

  test('should refuse CONNECT to the proxy itself with 508', async () => {
    using client = await rawClient(roxy.port)
    client.send(`CONNECT 127.0.0.1:${roxy.port} HTTP/1.1\r\n\r\n`)
    expect(await client.waitClosed()).toBe(true)
    expect(client.text).toStartWith('HTTP/1.1 508 ')
  })

  test('should answer 400 to CONNECT without a port', async () => {
    using client = await rawClient(roxy.port)
    client.send('CONNECT origin.test HTTP/1.1\r\n\r\n')
    expect(await client.waitClosed()).toBe(true)
    expect(client.text).toStartWith('HTTP/1.1 400 ')
  })
})
