/**
 * HTTPS-through-a-proxy client for bench/tls-run.ts: CONNECT, then TLS inside the tunnel
 * (Bun's `socket.upgradeTLS`, the proxy's CA trusted, SNI = the host), then keep-alive
 * `GET /` requests, one in flight per tunnel. Every response is checked: status 200 and
 * body `ok` (Content-Length or chunked framing); anything else counts as an error.
 *
 *   bun bench/tls-client.ts load PROXY_PORT HOST ORIGIN_PORT CA_PEM CONNECTIONS SECONDS
 *   bun bench/tls-client.ts new-hosts PROXY_PORT ORIGIN_PORT CA_PEM ISSUED_HOST HOST...
 *
 * `load` keeps CONNECTIONS tunnels busy for SECONDS (at most MAX_REQUESTS responses) and
 * prints one JSON line: requests, errors, seconds, p50/p99 latency, its own CPU time.
 * `new-hosts` times, per HOST in turn, a fresh tunnel's first request to HOST (a name the
 * proxy has not seen) and then one to ISSUED_HOST (a name it has), and prints both lists.
 */
import type { Socket, SocketHandler } from 'bun'

const MAX_REQUESTS = 5_000_000
const MAX_LATENCIES = 1 << 21
const TIMEOUT_MS = 10_000

/** What a response is checked for. */
interface Reply {
  ok: boolean
  problem?: string
}

/** Collects one HTTP/1.1 response at a time from decrypted bytes. */
class ResponseReader {
  #text = ''

  /** Adds bytes; returns the reply once a whole response is in, else undefined. */
  push(chunk: Buffer): Reply | undefined {
    this.#text += chunk.toString('latin1')
    const headEnd = this.#text.indexOf('\r\n\r\n')
    if (headEnd < 0) {
      return undefined
    }
    const head = this.#text.slice(0, headEnd)
    const rest = this.#text.slice(headEnd + 4)
    const body = readBody(head, rest)
    if (body === undefined) {
      return undefined
    }
    this.#text = ''
    if (!head.startsWith('HTTP/1.1 200 ')) {
      return { ok: false, problem: head.split('\r\n', 1)[0] }
    }
    if (body.text !== 'ok' || body.extra) {
      return { ok: false, problem: `body ${JSON.stringify(body.text)}, ${body.extra} extra bytes` }
    }
    return { ok: true }
  }
}

/** The body framed by Content-Length or chunked encoding, or undefined if incomplete. */
function readBody(head: string, rest: string): { text: string; extra: number } | undefined {
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)
  if (length) {
    const size = Number(length[1])
    return rest.length < size ? undefined : { text: rest.slice(0, size), extra: rest.length - size }
  }
  if (!/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    return { text: '', extra: rest.length } // no body framing: counted as a wrong body
  }
  let text = ''
  let at = 0
  for (let chunks = 0; chunks < 1000; chunks++) {
    const lineEnd = rest.indexOf('\r\n', at)
    if (lineEnd < 0) {
      return undefined
    }
    const size = parseInt(rest.slice(at, lineEnd), 16)
    if (size === 0) {
      const end = rest.indexOf('\r\n\r\n', lineEnd - 2)
      return end < 0 ? undefined : { text, extra: rest.length - end - 4 }
    }
    if (rest.length < lineEnd + 2 + size + 2) {
      return undefined
    }
    text += rest.slice(lineEnd + 2, lineEnd + 2 + size)
    at = lineEnd + 2 + size + 2
  }
  return { text, extra: rest.length - at }
}

/** One CONNECT tunnel with TLS inside, ready for requests. */
interface Tunnel {
  /** Sends `GET /`; `done` runs once with the checked reply (or the failure). */
  request(done: (reply: Reply) => void): void
  close(): void
  /** performance.now() when the proxy's `200` to CONNECT was in. */
  establishedAt: number
  /** performance.now() when the TLS handshake inside the tunnel was done. */
  securedAt: number
}

interface TunnelTarget {
  proxyPort: number
  host: string
  originPort: number
  ca: string
}

/** Opens a tunnel: TCP to the proxy, CONNECT, the TLS handshake (the CA verified). */
function openTunnel(target: TunnelTarget): Promise<Tunnel> {
  const authority = `${target.host}:${target.originPort}`
  const get = `GET / HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: roxy-bench\r\n\r\n`
  return new Promise((resolve, reject) => {
    const reader = new ResponseReader()
    let waiting: ((reply: Reply) => void) | undefined
    const finish = (reply: Reply) => {
      const done = waiting
      waiting = undefined
      done?.(reply)
    }
    const tls: SocketHandler<undefined> = {
      data(_socket, chunk) {
        const reply = reader.push(chunk)
        if (reply) {
          finish(reply)
        }
      },
      handshake(socket, success, err) {
        if (!success || err) {
          reject(new Error(`TLS to ${authority} via the proxy: ${err?.message ?? 'failed'}`))
          socket.end()
          return
        }
        resolve({
          establishedAt,
          securedAt: performance.now(),
          request(done) {
            waiting = done
            socket.write(get)
          },
          close: () => void socket.end(),
        })
      },
      close: () => finish({ ok: false, problem: 'closed' }),
      error: (_socket, err) => {
        reject(err)
        finish({ ok: false, problem: err.message })
      },
    }
    let connectResponse = ''
    let upgraded = false
    let establishedAt = 0
    const raw: SocketHandler<undefined> = {
      open: (socket) =>
        void socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`),
      data(socket: Socket<undefined>, chunk) {
        if (upgraded) {
          return // the raw tap of the upgraded socket
        }
        connectResponse += chunk.toString('latin1')
        if (!connectResponse.includes('\r\n\r\n')) {
          return
        }
        if (!/^HTTP\/1\.[01] 200/.test(connectResponse)) {
          reject(new Error(`CONNECT ${authority}: ${connectResponse.split('\r\n', 1)[0]}`))
          socket.end()
          return
        }
        upgraded = true
        establishedAt = performance.now()
        socket.upgradeTLS({ tls: { ca: target.ca, serverName: target.host }, socket: tls })
      },
      error: (_socket, err) => reject(err),
      close: () => reject(new Error(`proxy closed the tunnel to ${authority}`)),
    }
    Bun.connect({ hostname: '127.0.0.1', port: target.proxyPort, socket: raw }).catch(reject)
  })
}

function requestOnce(tunnel: Tunnel): Promise<Reply> {
  return new Promise((resolve) => tunnel.request(resolve))
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: Timer | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer in ${TIMEOUT_MS} ms`)),
      TIMEOUT_MS,
    )
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** What `load` prints. */
export interface LoadResult {
  requests: number
  errors: number
  firstProblem?: string
  seconds: number
  p50Ms: number
  p99Ms: number
  /** User + system CPU this client used while measuring, µs. */
  cpuUs: number
}

async function runLoad(target: TunnelTarget, connections: number, seconds: number) {
  const tunnels = await Promise.all(
    Array.from({ length: connections }, () => withTimeout(openTunnel(target), 'tunnel')),
  )
  const latencies = new Float64Array(MAX_LATENCIES)
  const result: LoadResult = { requests: 0, errors: 0, seconds: 0, p50Ms: 0, p99Ms: 0, cpuUs: 0 }
  const cpuBefore = process.cpuUsage()
  const start = performance.now()
  const deadline = start + seconds * 1000
  await new Promise<void>((resolve) => {
    let active = tunnels.length
    const loop = (tunnel: Tunnel) => {
      const sent = performance.now()
      tunnel.request((reply) => {
        const now = performance.now()
        if (result.requests < MAX_LATENCIES) {
          latencies[result.requests] = now - sent
        }
        result.requests++
        if (!reply.ok) {
          result.errors++
          result.firstProblem ??= reply.problem
        }
        if (reply.ok && now < deadline && result.requests < MAX_REQUESTS) {
          loop(tunnel)
        } else if (--active === 0) {
          resolve()
        }
      })
    }
    tunnels.forEach(loop)
  })
  result.seconds = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  result.cpuUs = cpu.user + cpu.system
  const sorted = latencies.subarray(0, Math.min(result.requests, MAX_LATENCIES)).sort()
  result.p50Ms = sorted[Math.floor(sorted.length * 0.5)] ?? 0
  result.p99Ms = sorted[Math.floor(sorted.length * 0.99)] ?? 0
  tunnels.forEach((tunnel) => tunnel.close())
  return result
}

/** The phases of a first request, ms: until CONNECT's 200, the TLS handshake, the GET. */
export type Phases = [connect: number, handshake: number, request: number]

/** What `new-hosts` prints: ms per first request (and its phases), new and issued names. */
export interface NewHostsResult {
  newMs: number[]
  issuedMs: number[]
  newPhases: Phases[]
  issuedPhases: Phases[]
}

async function timeFirstRequest(target: TunnelTarget): Promise<Phases> {
  const start = performance.now()
  const tunnel = await withTimeout(openTunnel(target), `tunnel to ${target.host}`)
  const requestAt = performance.now()
  const reply = await withTimeout(requestOnce(tunnel), `GET via ${target.host}`)
  const end = performance.now()
  tunnel.close()
  if (!reply.ok) {
    throw new Error(`${target.host}: ${reply.problem}`)
  }
  return [tunnel.establishedAt - start, tunnel.securedAt - tunnel.establishedAt, end - requestAt]
}

async function runNewHosts(base: TunnelTarget, issuedHost: string, hosts: string[]) {
  const result: NewHostsResult = { newMs: [], issuedMs: [], newPhases: [], issuedPhases: [] }
  const sum = (phases: Phases) => phases[0] + phases[1] + phases[2]
  await timeFirstRequest({ ...base, host: issuedHost })
  for (const host of hosts) {
    const fresh = await timeFirstRequest({ ...base, host })
    const issued = await timeFirstRequest({ ...base, host: issuedHost })
    result.newPhases.push(fresh)
    result.issuedPhases.push(issued)
    result.newMs.push(sum(fresh))
    result.issuedMs.push(sum(issued))
  }
  return result
}

async function main(argv: string[]): Promise<void> {
  const [mode, proxyPort, ...rest] = argv
  if (mode === 'load' && rest.length === 5) {
    const [host, originPort, caPath, connections, seconds] = rest
    const ca = await Bun.file(caPath).text()
    const target = { proxyPort: Number(proxyPort), host, originPort: Number(originPort), ca }
    const result = await runLoad(target, Number(connections), Number(seconds))
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return
  }
  if (mode === 'new-hosts' && rest.length >= 4) {
    const [originPort, caPath, issuedHost, ...hosts] = rest
    const ca = await Bun.file(caPath).text()
    const base = {
      proxyPort: Number(proxyPort),
      host: issuedHost,
      originPort: Number(originPort),
      ca,
    }
    const result = await runNewHosts(base, issuedHost, hosts)
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return
  }
  throw new Error('usage: see the comment at the top of bench/tls-client.ts')
}

if (import.meta.main) {
  await main(process.argv.slice(2))
  process.exit(0)
}
