/**
 * How to terminate TLS inside a CONNECT tunnel on Bun 1.4.5: the options compared.
 *
 *   bun bench/tls-intercept.ts [mode...]   # markdown table from 3 runs per cell (about 70 s)
 *
 * Every cell comes from a fresh server process (`--server MODE KIND`), and the client is
 * another process (`--client`), so the CPU time and RSS the server reads are its own.
 * Per mode:
 * - keep-alive: one tunnel, sequential GET/200 pairs for 3 s (at most 30 000);
 * - handshake: a new tunnel, handshake and one request each, for 3 s (at most 500);
 * - idle: after 50 warm-up tunnels, 500 more left open after one request each: server RSS
 *   growth per tunnel.
 *
 * Modes (pass some names to run only those):
 * - interceptor:      src/tls/intercept.ts (socket.upgradeTLS isServer + initialData),
 *                     leaf PEM from CertCache: the production path;
 * - proxy-sketch:     test/tls/intercept-proxy.ts, i.e. the above plus a CONNECT parser
 *                     and per-request string handling, for a feel of the JS around it;
 * - upgrade-context:  a bare upgradeTLS with one prebuilt native secure context, to see
 *                     what keeping a context per leaf would buy;
 * - node-tls-duplex:  new tls.TLSSocket(duplex, { isServer }) fed from the data handler;
 * - relay:            bytes piped into an internal Bun.listen({ tls }) over loopback;
 * - direct-tls:       Bun.listen({ tls }) without CONNECT: the floor.
 */
import { Duplex } from 'node:stream'
import { createSecureContext, TLSSocket } from 'node:tls'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Socket, SocketHandler, TLSUpgradeOptions } from 'bun'
import { CertCache } from '../src/tls/cert-cache.ts'
import { createEphemeralCa } from '../src/tls/certificate-authority.ts'
import { TlsInterceptor } from '../src/tls/intercept.ts'
import { LeafIssuer } from '../src/tls/leaf-issuer.ts'
import { createNativeSecureContext } from '../src/tls/native-secure-context.ts'
import { startInterceptProxy } from '../test/tls/intercept-proxy.ts'

const KEEPALIVE_MS = 3000
const KEEPALIVE_MAX = 30_000
const HANDSHAKE_MAX = 500
const IDLE_TUNNELS = 500
const IDLE_WARMUP = 50
const ROUNDS = 3
const RESPONSE = 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello'
const CONNECT = 'CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n'

if (process.argv[2] === '--client') {
  await runClient(
    Number(process.argv[3]),
    process.argv[4],
    process.argv[5] === 'direct',
    process.argv[6],
  )
  process.exit(0)
}

// ---------------------------------------------------------------- client (child process)

/** Resolves after each full response (content-length framed) to `send()`. */
interface Tunnel {
  send(): Promise<void>
  close(): void
}

function openTunnel(port: number, ca: string, direct: boolean): Promise<Tunnel> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    let waiter: (() => void) | undefined
    const tlsHandlers: SocketHandler<undefined> = {
      data(_socket, chunk) {
        buffered += chunk.toString('latin1')
        const head = buffered.indexOf('\r\n\r\n')
        const length = Number(/content-length: (\d+)/i.exec(buffered)?.[1] ?? -1)
        if (head >= 0 && length >= 0 && buffered.length >= head + 4 + length) {
          buffered = buffered.slice(head + 4 + length)
          const done = waiter
          waiter = undefined
          done?.()
        }
      },
      handshake(socket, success, err) {
        if (!success) {
          reject(err)
          return
        }
        resolve({
          send: () =>
            new Promise<void>(
              (r) => ((waiter = r), socket.write('GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n')),
            ),
          close: () => socket.end(),
        })
      },
      error: (_socket, err) => reject(err),
    }
    const tls = { ca, serverName: 'localhost' }
    if (direct) {
      Bun.connect({ hostname: '127.0.0.1', port, tls, socket: tlsHandlers }).catch(reject)
      return
    }
    let upgraded = false
    Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        open: (socket) => void socket.write(CONNECT),
        data(socket) {
          if (!upgraded) {
            upgraded = true // later calls are the raw tap of the client-side upgrade
            socket.upgradeTLS({ tls, socket: tlsHandlers })
          }
        },
        error: (_socket, err) => reject(err),
      },
    }).catch(reject)
  })
}

/** One line (or EOF) from stdin. */
function readLine(): Promise<unknown> {
  return new Promise((resolve) => {
    process.stdin.once('data', resolve)
    process.stdin.once('end', resolve)
  })
}

async function runClient(
  port: number,
  kind: string,
  direct: boolean,
  caPath: string,
): Promise<void> {
  const ca = await Bun.file(caPath).text()
  const deadline = performance.now() + KEEPALIVE_MS
  let count = 0
  if (kind === 'keepalive') {
    const tunnel = await openTunnel(port, ca, direct)
    while (count < KEEPALIVE_MAX && performance.now() < deadline) {
      await tunnel.send()
      count++
    }
    tunnel.close()
  } else if (kind === 'handshake') {
    while (count < HANDSHAKE_MAX && performance.now() < deadline) {
      const tunnel = await openTunnel(port, ca, direct)
      await tunnel.send()
      tunnel.close()
      count++
    }
  } else {
    // Warm-up tunnels first (JIT, first mint, pools), then the measured ones; the server
    // reads its RSS at each line this prints, and answers with a line to go on.
    const tunnels: Tunnel[] = []
    for (const batch of [IDLE_WARMUP, IDLE_TUNNELS]) {
      for (let i = 0; i < batch; i++) {
        const tunnel = await openTunnel(port, ca, direct)
        await tunnel.send()
        tunnels.push(tunnel)
      }
      process.stdout.write(`${tunnels.length}\n`)
      await readLine()
    }
    tunnels.forEach((tunnel) => tunnel.close())
    return
  }
  const seconds = (performance.now() - (deadline - KEEPALIVE_MS)) / 1000
  process.stdout.write(`${count} ${seconds}\n`)
}

// ---------------------------------------------------------------- servers (this process)

const dir = mkdtempSync(join(tmpdir(), 'roxy-bench-intercept-'))
const ca = createEphemeralCa({ dir })
const issuer = new LeafIssuer(ca)
const leaf = issuer.issue('localhost')

type Stage = { stage: number; peer?: { write(chunk: Uint8Array): unknown; end(): unknown } }

const answer: SocketHandler<unknown> = {
  data: (socket) => void socket.write(RESPONSE),
  error() {},
}

/** A CONNECT front that hands the first tunnel bytes to `onTunnel`, then forwards chunks to `peer`. */
function listenConnect(onTunnel: (raw: Socket<Stage>, first: Buffer) => void) {
  return Bun.listen<Stage>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open: (raw) => void (raw.data = { stage: 0 }),
      data(raw, chunk) {
        const conn = raw.data
        if (conn.stage === 0) {
          conn.stage = 1
          raw.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        } else if (conn.stage === 1) {
          conn.stage = 2
          onTunnel(raw, chunk)
        } else if (conn.peer) {
          conn.peer.write(chunk)
        } // else: raw tap after an in-place upgrade
      },
      close: (raw) => void raw.data.peer?.end(),
      error() {},
    },
  })
}

async function startServer(mode: string): Promise<{ port: number; stop(): void }> {
  switch (mode) {
    case 'interceptor': {
      // The same front and response as the other modes, so only the mechanism differs.
      const cache = new CertCache(issuer, { capacity: 10 })
      const interceptor = new TlsInterceptor({ handlers: answer, handshakeTimeoutMs: 15_000 })
      const server = listenConnect((raw, first) => {
        const credentials = cache.getCached('localhost') ?? leaf
        interceptor.intercept(raw, first, credentials, undefined)
      })
      await cache.issue('localhost')
      return { port: server.port, stop: () => server.stop(true) }
    }
    case 'proxy-sketch':
      return startInterceptProxy(new CertCache(issuer, { capacity: 10 }), {
        handshakeTimeoutMs: 15_000,
      })
    case 'upgrade-context': {
      // What keeping a native context per leaf would buy (nothing measurable on 1.4.5).
      const secureContext = createNativeSecureContext({ cert: leaf.cert, key: leaf.key })
      const server = listenConnect((raw, first) => {
        // isServer and initialData are missing from bun-types 1.4.5 (src/tls/intercept.ts)
        const options = {
          isServer: true,
          initialData: first,
          tls: { secureContext },
          socket: answer,
        }
        raw.upgradeTLS(options as TLSUpgradeOptions<unknown>)
      })
      return { port: server.port, stop: () => server.stop(true) }
    }
    case 'node-tls-duplex': {
      const context = createSecureContext({ cert: leaf.cert, key: leaf.key })
      const server = listenConnect((raw, first) => {
        const duplex = new Duplex({
          read() {},
          write: (chunk, _encoding, callback) => void (raw.write(chunk), callback()),
          final: (callback) => void (raw.end(), callback()),
        })
        raw.data.peer = { write: (chunk) => duplex.push(chunk), end: () => duplex.push(null) }
        duplex.push(first)
        const tls = new TLSSocket(duplex, { isServer: true, secureContext: context })
        tls.on('data', () => tls.write(RESPONSE))
        tls.on('error', () => {})
      })
      return { port: server.port, stop: () => server.stop(true) }
    }
    case 'relay': {
      const inner = Bun.listen({
        hostname: '127.0.0.1',
        port: 0,
        tls: { cert: leaf.cert, key: leaf.key },
        socket: answer,
      })
      const server = listenConnect((raw, first) => {
        const queued: Uint8Array[] = [first]
        raw.data.peer = { write: (chunk) => queued.push(chunk), end() {} }
        Bun.connect({
          hostname: '127.0.0.1',
          port: inner.port,
          socket: {
            open(peer) {
              queued.forEach((chunk) => peer.write(chunk))
              raw.data.peer = peer
            },
            data: (_peer, chunk) => void raw.write(chunk),
            close: () => void raw.end(),
            error() {},
          },
        })
      })
      return { port: server.port, stop: () => (server.stop(true), inner.stop(true)) }
    }
    case 'direct-tls': {
      const server = Bun.listen({
        hostname: '127.0.0.1',
        port: 0,
        tls: { cert: leaf.cert, key: leaf.key },
        socket: answer,
      })
      return { port: server.port, stop: () => server.stop(true) }
    }
  }
  throw new Error(`unknown mode ${mode}`)
}

function spawnClient(port: number, kind: string, direct: boolean) {
  return Bun.spawn(
    [
      process.execPath,
      import.meta.path,
      '--client',
      String(port),
      kind,
      direct ? 'direct' : 'tunnel',
      ca.certPath,
    ],
    { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' },
  )
}

async function measureLoad(
  mode: string,
  kind: string,
): Promise<{ perSecond: number; cpuUs: number }> {
  const server = await startServer(mode)
  const cpu = process.cpuUsage()
  const client = spawnClient(server.port, kind, mode === 'direct-tls')
  const [count, seconds] = (await new Response(client.stdout).text()).trim().split(' ').map(Number)
  const used = process.cpuUsage(cpu)
  await client.exited
  server.stop()
  return { perSecond: count / seconds, cpuUs: (used.user + used.system) / count }
}

async function measureIdle(mode: string): Promise<number> {
  const server = await startServer(mode)
  const client = spawnClient(server.port, 'idle', mode === 'direct-tls')
  const lines = client.stdout.getReader()
  await lines.read() // warm-up tunnels open
  Bun.gc(true)
  const before = process.memoryUsage.rss()
  client.stdin.write('go\n')
  client.stdin.flush()
  await lines.read() // measured tunnels open and idle
  Bun.gc(true)
  const perTunnel = (process.memoryUsage.rss() - before) / IDLE_TUNNELS
  client.stdin.write('done\n')
  client.stdin.end()
  await client.exited
  server.stop()
  return perTunnel
}

const ALL_MODES = [
  'interceptor',
  'proxy-sketch',
  'upgrade-context',
  'node-tls-duplex',
  'relay',
  'direct-tls',
]
const named = process.argv.slice(2).filter((arg) => ALL_MODES.includes(arg))
const modes = named.length > 0 ? named : ALL_MODES

if (process.argv[2] === '--server') {
  // One measurement in a fresh process, so freed memory of earlier runs cannot hide growth.
  const [mode, kind] = process.argv.slice(3)
  const result =
    kind === 'idle' ? { rssKb: (await measureIdle(mode)) / 1024 } : await measureLoad(mode, kind)
  process.stdout.write(JSON.stringify(result))
  rmSync(dir, { recursive: true, force: true })
  process.exit(0)
}

async function runServer(mode: string, kind: string): Promise<Record<string, number>> {
  const child = Bun.spawn([process.execPath, import.meta.path, '--server', mode, kind], {
    stderr: 'inherit',
  })
  return JSON.parse(await new Response(child.stdout).text())
}

console.log(
  `Bun ${Bun.version}; fresh server process per run, client in another; best of ${ROUNDS} (RSS: median)\n`,
)
console.log(
  '| mode | keep-alive req/s | CPU µs/req | tunnels/s (handshake + 1 req) | CPU µs/tunnel | RSS KB/idle tunnel |',
)
console.log('|---|---|---|---|---|---|')
/**
 * ROUNDS fresh-process runs per cell; the machine is shared and other load only ever adds
 * time, so rates take the best run, CPU the lowest, RSS the median.
 */
async function runRounds(mode: string, kind: string): Promise<Array<Record<string, number>>> {
  const runs: Array<Record<string, number>> = []
  for (let round = 0; round < ROUNDS; round++) {
    runs.push(await runServer(mode, kind))
  }
  return runs
}

const pick = {
  max: (runs: Array<Record<string, number>>, field: string) =>
    Math.max(...runs.map((run) => run[field])),
  min: (runs: Array<Record<string, number>>, field: string) =>
    Math.min(...runs.map((run) => run[field])),
  median: (runs: Array<Record<string, number>>, field: string) =>
    runs.map((run) => run[field]).sort((a, b) => a - b)[Math.floor(runs.length / 2)],
}

for (const mode of modes) {
  const keepAlive = await runRounds(mode, 'keepalive')
  const handshake = await runRounds(mode, 'handshake')
  const idle = await runRounds(mode, 'idle')
  const cells = [
    Math.round(pick.max(keepAlive, 'perSecond')),
    Math.round(pick.min(keepAlive, 'cpuUs')),
    Math.round(pick.max(handshake, 'perSecond')),
    Math.round(pick.min(handshake, 'cpuUs')),
    pick.median(idle, 'rssKb').toFixed(1),
  ]
  console.log(`| ${mode} | ${cells.join(' | ')} |`)
}
rmSync(dir, { recursive: true, force: true })
