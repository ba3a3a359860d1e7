/**
 * One accepted client connection and its life:
 *
 *   head ──▶ exchange ──▶ head ...        keep-alive, pipelined requests in order
 *   head(CONNECT) ──▶ tunnel              raw bytes (bypass, non-TLS, no CA)
 *   head(CONNECT) ──▶ 200 ──▶ intercept   TLS terminated, inner requests ruled
 *
 * Requests on one connection are served one at a time; bytes of the next
 * (pipelined) request wait in `#in`, bounded by the head size limit, with
 * the socket paused beyond it.
 */
import type { Socket } from 'bun'
import { ClientError, RoxyError, statusForError } from '../errors.ts'
import { describeError, log } from '../observe/log.ts'
import { deadlines, type Timed } from '../util/deadlines.ts'
import type { ProxyContext } from './context.ts'
import { Exchange, type ExchangeClient } from './exchange.ts'
import { readFraming, type Framing } from './http1/framing.ts'
import { MAX_HEAD, parseRequestHead, type RequestHead } from './http1/head.ts'
import type { Verdict } from './policy.ts'
import { statusText } from './status-text.ts'
import { parseAbsoluteTarget, parseConnectTarget, parseInnerTarget, type Target } from './target.ts'
import { Tunnel } from './tunnel.ts'
import { Upstream, dialUpstream } from './upstream.ts'
import { WriteQueue } from './write-queue.ts'

type State = 'head' | 'exchange' | 'connect-wait' | 'tunnel' | 'intercepted' | 'closed'

/** The transport a client connection writes to: a Bun TCP socket, or a TLS layer above one. */
export interface ClientTransport {
  write(data: Uint8Array): number
  end(): void
  terminate(): void
  pause(): void
  resume(): void
}

export class ClientConnection implements ExchangeClient, Timed {
  readonly ip: string
  minor: 0 | 1 = 1
  deadline = 0

  #ctx: ProxyContext
  #socket: ClientTransport | undefined
  /** In state `intercepted`: where raw bytes go while the leaf is minted (then: nowhere). */
  #feedIntercept: ((more: Buffer) => void) | undefined
  #out = new WriteQueue()
  #state: State = 'head'
  #in: Buffer | undefined
  #exchange: Exchange | undefined
  #tunnel: Tunnel | undefined
  #connect: Target | undefined
  /** Set inside an intercepted tunnel: inner origin-form requests go to this authority. */
  #inner: Target | undefined
  /** Epoch ms by which the awaited head (or first tunnel bytes) must arrive; 0 = none. */
  #waitUntil = 0
  /** Epoch ms after which no new request is served here (max_connection_age); 0 = never. */
  #drainAt = 0
  /** Epoch ms at which the connection is cut whatever it does (age + grace); 0 = never. */
  #killAt = 0
  #aged = false
  #closeWhenFlushed = false
  #lastTargetText = ''
  #lastTarget: Target | undefined
  #processing = false
  #paused = false

  /**
   * `socket` is undefined for the inner side of an intercepted tunnel until
   * `attach` hands over the TLS socket; writes queue meanwhile.
   */
  constructor(ctx: ProxyContext, socket: ClientTransport | undefined, ip: string, inner?: Target) {
    this.#ctx = ctx
    this.#socket = socket
    this.ip = ip
    this.#inner = inner
    if (!inner) {
      ctx.stats.openConnections++
    }
    const { maxConnectionAgeMs, maxConnectionAgeGraceMs } = ctx.timeouts
    if (maxConnectionAgeMs > 0 && !inner) {
      this.#drainAt = Date.now() + maxConnectionAgeMs
      this.#killAt = this.#drainAt + maxConnectionAgeGraceMs
    }
    this.#armHeadTimeout()
    deadlines.add(this)
  }

  /** Host of the CONNECT this inner connection serves (for TLS log lines). */
  get connectHost(): string | undefined {
    return this.#inner?.host
  }

  /** The TLS socket of an intercepted tunnel, once upgraded. */
  attach(socket: ClientTransport): void {
    this.#socket = socket
  }

  /** TLS handshake done: anything queued may go out now. */
  onSecure(socket: ClientTransport): void {
    this.#socket = socket
    this.#out.flush(socket as Socket<unknown>)
  }

  // ── events from the socket ─────────────────────────────────────────────

  onData(data: Buffer): void {
    switch (this.#state) {
      case 'head':
        this.#in = this.#in ? Buffer.concat([this.#in, data]) : data
        this.#process()
        return
      case 'exchange': {
        const ex = this.#exchange!
        if (!ex.requestDone) {
          const end = ex.onClientBody(data, 0)
          if (end < 0 || end === data.length) {
            return
          }
          data = data.subarray(end)
        }
        this.#in = this.#in ? Buffer.concat([this.#in, data]) : data
        if (this.#in.length > MAX_HEAD) {
          this.pause()
        }
        return
      }
      case 'connect-wait':
        this.#onFirstTunnelBytes(data)
        return
      case 'tunnel':
        this.#tunnel!.fromClient(data)
        return
      case 'intercepted':
        this.#feedIntercept?.(data)
        return
    }
  }

  onDrain(): void {
    if (!this.#socket || !this.#out.flush(this.#socket as Socket<unknown>)) {
      return
    }
    if (this.#closeWhenFlushed) {
      this.#socket.end()
      return
    }
    this.#exchange?.onClientDrain()
    this.#tunnel?.onClientDrain()
  }

  onClose(): void {
    if (this.#state === 'closed') {
      return
    }
    this.#state = 'closed'
    if (!this.#inner) {
      this.#ctx.stats.openConnections--
    }
    this.#feedIntercept = undefined
    deadlines.delete(this)
    this.#exchange?.onClientClose()
    this.#tunnel?.onClientClose()
    this.#exchange = undefined
    this.#in = undefined
    this.#out.clear()
  }

  /**
   * One deadline field serves three timers; whichever comes first fires and
   * the next is re-armed: the head/first-bytes wait, the age at which the
   * connection stops taking requests, and the age + grace at which it is cut.
   */
  onDeadline(now: number): void {
    if (this.#killAt !== 0 && now >= this.#killAt && this.#state !== 'tunnel') {
      log.debug('proxy', 'connection past max age and grace: closing', { client: this.ip })
      this.abort()
      return
    }
    if (this.#drainAt !== 0 && now >= this.#drainAt && !this.#aged) {
      this.#aged = true
      this.closeIfIdle()
    }
    if (this.#waitUntil !== 0 && now >= this.#waitUntil) {
      this.#waitUntil = 0
      this.#onWaitExpired()
    }
    this.#rearm()
  }

  #onWaitExpired(): void {
    if (this.#state === 'head' && this.#in && this.#in.length > 0) {
      this.respond(
        408,
        'Request Timeout: the request head did not arrive in time\n',
        undefined,
        true,
      )
      return
    }
    if (this.#state === 'head' || this.#state === 'connect-wait') {
      log.debug('proxy', 'client idle timeout', { client: this.ip, state: this.#state })
      this.#state = 'closed'
      this.#socket?.end()
    }
  }

  /** Wait at most `ms` for the client's next bytes (0 = no limit). */
  #setWait(ms: number): void {
    this.#waitUntil = ms > 0 ? Date.now() + ms : 0
    this.#rearm()
  }

  #rearm(): void {
    let next = this.#waitUntil
    const pending = this.#aged ? this.#killAt : this.#drainAt
    if (pending !== 0 && (next === 0 || pending < next)) {
      next = pending
    }
    if (this.#state === 'tunnel' || this.#state === 'intercepted' || this.#state === 'closed') {
      next = 0
    }
    this.deadline = next
  }

  // ── ExchangeClient / TunnelClient ──────────────────────────────────────

  write(data: Uint8Array): boolean {
    if (this.#state === 'closed') {
      return true
    }
    return this.#out.write(this.#socket as Socket<unknown>, data)
  }

  pause(): void {
    if (!this.#paused) {
      this.#paused = true
      this.#socket?.pause()
    }
  }

  resume(): void {
    if (this.#paused) {
      this.#paused = false
      this.#socket?.resume()
    }
  }

  end(): void {
    if (this.#out.isEmpty) {
      this.#socket?.end()
    } else {
      this.#closeWhenFlushed = true
    }
  }

  abort(): void {
    this.#state = 'closed'
    this.#socket?.terminate()
  }

  respond(
    status: number,
    body: string,
    headers: readonly string[] | undefined,
    close: boolean,
  ): void {
    this.#answer(status, PLAIN_TEXT, body, headers, close, false)
  }

  /** A complete response of roxy's own; with `close`, the connection ends after it. */
  #answer(
    status: number,
    contentType: string,
    body: string,
    headers: readonly string[] | undefined,
    close: boolean,
    headOnly: boolean,
  ): void {
    let text = `HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: ${contentType}\r\n`
    text += `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\n`
    if (headers) {
      for (let i = 0; i < headers.length; i += 2) {
        text += `${headers[i]}: ${headers[i + 1]}\r\n`
      }
    }
    text += close ? 'Connection: close\r\n\r\n' : '\r\n'
    this.write(Buffer.from(headOnly ? text : text + body))
    if (close) {
      this.#state = 'closed'
      this.end()
    }
  }

  onExchangeDone(exchange: Exchange, keepAlive: boolean): void {
    if (this.#exchange !== exchange) {
      return
    }
    this.#exchange = undefined
    if (!keepAlive || this.#state === 'closed' || this.#aged) {
      this.#state = 'closed'
      this.end()
      return
    }
    this.#state = 'head'
    this.#armHeadTimeout()
    this.resume()
    if (!this.#processing && this.#in) {
      this.#process()
    }
  }

  /** At shutdown: close the connection if it sits between requests. */
  closeIfIdle(): void {
    if (this.#state === 'head' && !this.#in) {
      this.#state = 'closed'
      this.#socket?.end()
    }
  }

  startTunnel(up: Upstream, rest: Uint8Array | undefined): void {
    this.#state = 'tunnel'
    this.#setWait(0)
    this.#tunnel = new Tunnel(this, up, this.#exchange?.target.host ?? '', undefined)
    this.#exchange = undefined
    if (rest) {
      this.write(rest)
    }
    if (this.#in) {
      this.#tunnel.fromClient(this.#in)
      this.#in = undefined
    }
    this.resume()
  }

  // ── request heads ──────────────────────────────────────────────────────

  /** Serve every complete request head in `#in`, in order, until one needs to wait. */
  #process(): void {
    this.#processing = true
    try {
      while (this.#state === 'head' && this.#in && this.#in.length > 0) {
        const head = parseRequestHead(this.#in)
        if (!head) {
          return
        }
        const rest = this.#in.subarray(head.length)
        this.#in = undefined
        this.#setWait(0)
        const end = this.#serve(head, rest)
        if (end >= 0 && end < rest.length) {
          this.#in = rest.subarray(end)
        }
      }
    } catch (err) {
      this.#reject(err)
    } finally {
      this.#processing = false
    }
  }

  /** Route one request; returns the index in `rest` where it ended, -1 when closing. */
  #serve(head: RequestHead, rest: Buffer): number {
    this.minor = head.minor
    const framing = readFraming(head.headers, true)
    if (framing.hosts > 1) {
      throw new ClientError('ROXY_E_BAD_REQUEST', 'more than one Host header')
    }
    if (this.#ctx.draining) {
      framing.close = true
    }
    if (head.method === 'CONNECT') {
      return this.#serveConnect(head, rest)
    }
    if (head.target.charCodeAt(0) === 0x2f /* / */ && !this.#inner) {
      return this.#serveLocal(head, framing)
    }
    const target = this.#inner
      ? parseInnerTarget(this.#inner, head.target)
      : this.#parseTarget(head.target)
    if (this.#ctx.isSelf(target.host, target.port)) {
      throw new ClientError(
        'ROXY_E_LOOP',
        `request aimed at the proxy itself (${target.authority})`,
      )
    }
    const verdict = this.#decide(head.method, target, head.headers)
    const exchange = new Exchange(this.#ctx, this, head, framing, target, verdict)
    this.#exchange = exchange
    this.#state = 'exchange'
    return exchange.begin(rest.length > 0 ? rest : undefined)
  }

  /** Last-value cache: clients often ask for the same URL many times on one connection. */
  #parseTarget(text: string): Target {
    if (text !== this.#lastTargetText) {
      this.#lastTarget = parseAbsoluteTarget(text)
      this.#lastTargetText = text
    }
    return this.#lastTarget!
  }

  #decide(method: string, target: Target, headers: readonly string[]): Verdict {
    return this.#ctx.policy.decide({
      method,
      host: target.host,
      path: target.path,
      ip: this.ip,
      headers,
    })
  }

  #serveLocal(head: RequestHead, framing: Framing): number {
    const path = head.target.split('?')[0]
    const route = this.#ctx.localRoute(path)
    if (!route) {
      throw new ClientError(
        'ROXY_E_NOT_A_PROXY_REQUEST',
        'this is a proxy: send absolute-form requests (GET http://host/path) or CONNECT',
      )
    }
    const close = framing.body !== 'none' || framing.close || head.minor === 0
    this.#answer(
      route.status,
      route.contentType,
      route.body,
      undefined,
      close,
      head.method === 'HEAD',
    )
    if (close) {
      return -1
    }
    this.#armHeadTimeout()
    return 0
  }

  // ── CONNECT ────────────────────────────────────────────────────────────

  #serveConnect(head: RequestHead, rest: Buffer): number {
    if (this.#inner) {
      throw new ClientError('ROXY_E_BAD_REQUEST', 'CONNECT inside an intercepted tunnel')
    }
    const target = parseConnectTarget(head.target)
    if (this.#ctx.isSelf(target.host, target.port)) {
      throw new ClientError(
        'ROXY_E_LOOP',
        `CONNECT aimed at the proxy itself (${target.authority})`,
      )
    }
    this.#connect = target
    const interceptor = this.#ctx.interceptor
    if (!interceptor || this.#ctx.isBypassed(target.host)) {
      this.#openTunnel(target, undefined, true)
    } else {
      this.write(CONNECT_OK)
      this.#state = 'connect-wait'
      this.#setWait(this.#ctx.timeouts.connectInitialReadMs)
    }
    if (rest.length > 0) {
      this.onData(rest)
    }
    return -1
  }

  /** First bytes after CONNECT was answered: TLS is intercepted, anything else ruled and relayed. */
  #onFirstTunnelBytes(data: Buffer): void {
    this.#setWait(0)
    const target = this.#connect!
    if (data[0] === 0x16 && this.#ctx.interceptor && this.#socket) {
      this.#state = 'intercepted'
      this.#feedIntercept = this.#ctx.interceptor.intercept(
        this.#socket,
        data,
        target,
        this.ip,
        this,
      )
      return
    }
    this.#openTunnel(target, data, false)
  }

  /**
   * Rule the tunnel once (method CONNECT, path /), then dial. When the
   * client still waits for the CONNECT answer, 200 goes out only once the
   * origin accepted the connection, and a failure is a 502.
   */
  #openTunnel(target: Target, first: Buffer | undefined, answer: boolean): void {
    const verdict = this.#decide('CONNECT', target, EMPTY_HEADERS)
    if (verdict.status !== 0) {
      this.#logTunnelRefusal(target, verdict)
      if (answer) {
        this.respond(verdict.status, verdict.body, verdict.responseHeaders, true)
      } else {
        this.abort()
      }
      return
    }
    this.#state = 'tunnel'
    const up = new Upstream(`tunnel:${target.authority}`)
    const tunnel = new Tunnel(this, up, target.host, verdict)
    this.#tunnel = tunnel
    if (answer) {
      this.pause()
      tunnel.onOpen = () => {
        this.write(CONNECT_OK)
        this.resume()
      }
      tunnel.onFail = (err) => {
        const status = statusForError(err)
        this.respond(status, `${statusText(status)}: ${err.message}\n`, undefined, true)
      }
    }
    if (first) {
      tunnel.fromClient(first)
    }
    dialUpstream(
      up,
      {
        scheme: 'http',
        host: target.host,
        port: target.port,
        address: this.#ctx.resolveAddress(target.host),
      },
      this.#ctx.upstreamTls,
    )
  }

  #logTunnelRefusal(target: Target, verdict: Verdict): void {
    if (log.isEnabled(verdict.logLevel, 'proxy')) {
      log.log(verdict.logLevel, 'proxy', 'request', {
        method: 'CONNECT',
        host: target.host,
        path: '/',
        rule: verdict.rule,
        action: verdict.action,
        status: verdict.status,
        bytes: 0,
        client: this.ip,
      })
    }
  }

  // ── helpers ────────────────────────────────────────────────────────────

  #reject(err: unknown): void {
    const status = statusForError(err)
    const code = err instanceof RoxyError ? err.code : 'ROXY_E_BAD_REQUEST'
    const message = err instanceof Error ? err.message : String(err)
    log.info('proxy', 'request rejected', {
      client: this.ip,
      status,
      code,
      error: describeError(err),
    })
    this.#in = undefined
    this.respond(status, `${statusText(status)}: ${message}\n`, undefined, true)
  }

  #armHeadTimeout(): void {
    this.#setWait(this.#ctx.timeouts.headerReadMs)
  }
}

const CONNECT_OK = Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n')
const EMPTY_HEADERS: readonly string[] = []
const PLAIN_TEXT = 'text/plain; charset=utf-8'
