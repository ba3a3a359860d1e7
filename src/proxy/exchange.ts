/**
 * One request/response relayed between a client and an origin.
 *
 *   client ──head+body──▶ Exchange ──re-framed──▶ Upstream
 *   client ◀──head+body── Exchange ◀──────────── Upstream
 *
 * Bodies stream in both directions; a full write queue on one side pauses
 * the socket on the other (see WriteQueue). Framing is re-done on both
 * sides, so only well-formed messages leave roxy. Failure before the
 * response head went out becomes a 502/504; after it, the client connection
 * is cut without a clean end so the truncation shows (SPEC §3).
 */
import { UpstreamError, statusForError } from '../errors.ts'
import { describeError, formatHeaders, log } from '../observe/log.ts'
import { deadlines, type Timed } from '../util/deadlines.ts'
import type { ProxyContext } from './context.ts'
import { ChunkedDecoder, ChunkedError, encodeChunks } from './http1/chunked.ts'
import type { BodyKind, Framing } from './http1/framing.ts'
import type { RequestHead } from './http1/head.ts'
import { buildUpstreamHead } from './http1/upstream-head.ts'
import { copyResponseHead, type ResponseScan } from './http1/response-scan.ts'
import type { Verdict } from './policy.ts'
import type { Target } from './target.ts'
import { Upstream, dialUpstream, type UpstreamListener } from './upstream.ts'

/** What an exchange needs of the client connection it serves. */
export interface ExchangeClient {
  readonly ip: string
  /** Client speaks HTTP/1.0: no chunked, no 1xx. */
  readonly minor: 0 | 1
  write(data: Uint8Array): boolean
  pause(): void
  resume(): void
  /** Answer locally with a complete response. */
  respond(
    status: number,
    body: string,
    headers: readonly string[] | undefined,
    close: boolean,
  ): void
  /** Cut the connection without a clean end. */
  abort(): void
  onExchangeDone(exchange: Exchange, keepAlive: boolean): void
  /** Switch the connection to a raw tunnel with `up` (WebSocket after 101). */
  startTunnel(up: Upstream, rest: Uint8Array | undefined): void
}

/** Scratch list behind every exchange's `#out`: filled and flushed within one synchronous step. */
const OUT: Uint8Array[] = []

export class Exchange implements UpstreamListener, Timed {
  readonly head: RequestHead
  readonly target: Target
  readonly verdict: Verdict
  deadline = 0
  requestDone = false
  responseDone = false

  #ctx: ProxyContext
  #client: ExchangeClient
  #framing: Framing
  #keepAliveClient: boolean
  #up: Upstream | undefined
  #headBytes: Buffer | undefined
  #retried = false
  #reqRemaining = 0
  #reqChunks: ChunkedDecoder | undefined
  #reqSlices: Uint8Array[] | undefined
  #resBuf: Buffer | undefined
  #resStarted = false
  #resKind: BodyKind = 'none'
  #resRemaining = 0
  #resChunks: ChunkedDecoder | undefined
  #resSlices: Uint8Array[] | undefined
  /** What goes to the client at the end of this event-loop step (shared: flushed synchronously). */
  #out: Uint8Array[] = OUT
  #reusable = true
  #bytesOut = 0
  #status = 0
  #error: string | undefined
  #start = performance.now()
  #isWebSocket: boolean

  constructor(
    ctx: ProxyContext,
    client: ExchangeClient,
    head: RequestHead,
    framing: Framing,
    target: Target,
    verdict: Verdict,
  ) {
    this.#ctx = ctx
    this.#client = client
    this.head = head
    this.#framing = framing
    this.target = target
    this.verdict = verdict
    this.#keepAliveClient = head.minor === 1 ? !framing.close : framing.keepAlive
    this.#isWebSocket = framing.upgrade?.toLowerCase() === 'websocket'
    this.#reqRemaining = framing.body === 'length' ? framing.length : 0
    this.#reqChunks = framing.body === 'chunked' ? new ChunkedDecoder() : undefined
    this.requestDone = framing.body === 'none'
  }

  /**
   * Start the exchange with whatever body bytes came with the head. Returns
   * the index in `rest` where this request ended (pipelined bytes follow),
   * or -1 when the connection was answered and must close.
   */
  begin(rest: Buffer | undefined): number {
    this.#ctx.stats.inFlight++
    if (this.verdict.status !== 0) {
      return this.#answerLocally()
    }
    const key = this.target.key
    const delay = this.verdict.delayMs
    // A delayed request gets a fresh connection: its bytes wait in the write
    // queue of a socket not yet dialled, with the client paused meanwhile.
    const pooled = delay > 0 ? undefined : this.#ctx.pool.take(key)
    const up = pooled ?? new Upstream(key)
    up.listener = this
    this.#up = up
    this.#headBytes = buildUpstreamHead(
      this.head,
      this.target,
      this.#framing,
      this.verdict.requestHeaders,
      this.#isWebSocket,
    )
    up.write(this.#headBytes)
    const end = rest ? this.onClientBody(rest, 0) : 0
    this.deadline = Date.now() + delay + this.#ctx.timeouts.upstreamConnectMs
    deadlines.add(this)
    if (pooled) {
      // A prewarmed connection may still be connecting: its open arms the idle timer.
      if (pooled.isOpen) {
        this.onUpstreamOpen()
      }
    } else if (delay > 0) {
      this.#client.pause()
      setTimeout(() => {
        this.#client.resume()
        this.#dial(up)
      }, delay)
    } else {
      this.#dial(up)
    }
    return end
  }

  /** Feed request body bytes from `buf[start..]`; returns where this request ended. */
  onClientBody(buf: Buffer, start: number): number {
    if (this.requestDone) {
      return start
    }
    let end: number
    let data: Uint8Array
    if (this.#reqChunks) {
      try {
        end = this.#reqChunks.feed(buf, start, (this.#reqSlices ??= []))
      } catch (err) {
        this.#failRequest(err as ChunkedError)
        return -1
      }
      data = encodeChunks(this.#reqSlices!, this.#reqChunks.done, true)
      this.requestDone = this.#reqChunks.done
    } else {
      const take = Math.min(this.#reqRemaining, buf.length - start)
      end = start + take
      data = buf.subarray(start, end)
      this.#reqRemaining -= take
      this.requestDone = this.#reqRemaining === 0
    }
    if (this.#up && !this.#up.write(data)) {
      this.#client.pause()
    }
    return end
  }

  /** The client's write queue emptied: let the origin send again. */
  onClientDrain(): void {
    this.#up?.resume()
  }

  /** The client went away mid-exchange. */
  onClientClose(): void {
    if (this.responseDone) {
      return
    }
    this.#error ??= 'client closed the connection'
    this.#up?.destroy()
    this.#end(false)
  }

  onUpstreamOpen(): void {
    this.deadline = Date.now() + this.#ctx.timeouts.upstreamIdleMs
  }

  onUpstreamDrain(): void {
    this.#client.resume()
  }

  onUpstreamData(data: Buffer): void {
    if (this.responseDone) {
      this.#reusable = false
      return
    }
    this.deadline = Date.now() + this.#ctx.timeouts.upstreamIdleMs
    let body: Buffer = data
    if (!this.#resStarted) {
      const rest = this.#readResponseHead(data)
      if (rest === undefined) {
        return
      }
      body = rest
    }
    this.#relayBody(body)
    this.#flushOut()
    if (this.responseDone) {
      this.#finish()
    }
  }

  onUpstreamClose(err: UpstreamError | undefined): void {
    if (this.responseDone) {
      return
    }
    if (!this.#resStarted) {
      if (this.#canRetry()) {
        this.#retry()
        return
      }
      this.#fail(
        err ??
          new UpstreamError(
            'ROXY_E_UPSTREAM_RESET',
            'upstream closed the connection before responding',
          ),
      )
      return
    }
    if (this.#resKind === 'close' && !err) {
      this.responseDone = true
      this.#reusable = false
      this.#finish()
      return
    }
    this.#error = describeError(err ?? 'upstream closed mid-response')
    this.#client.abort()
    this.#end(false)
  }

  onDeadline(): void {
    if (this.responseDone) {
      return
    }
    const phase = this.#up?.isOpen ? 'response' : 'connect'
    const err = new UpstreamError(
      'ROXY_E_UPSTREAM_TIMEOUT',
      `upstream ${this.target.authority} timed out (${phase})`,
    )
    this.#up?.destroy()
    if (this.#resStarted) {
      this.#error = err.message
      this.#client.abort()
      this.#end(false)
    } else {
      this.#fail(err)
    }
  }

  #dial(up: Upstream): void {
    if (this.responseDone || up.isClosed) {
      return
    }
    const target = this.target
    dialUpstream(
      up,
      {
        scheme: target.scheme,
        host: target.host,
        port: target.port,
        address: this.#ctx.resolveAddress(target.host),
      },
      this.#ctx.upstreamTls,
    )
  }

  /** A pooled connection the origin had closed: try once more on a fresh one (idempotent, no body). */
  #canRetry(): boolean {
    return !this.#retried && (this.#up?.uses ?? 0) > 0 && this.#framing.body === 'none'
  }

  #retry(): void {
    this.#retried = true
    const up = new Upstream(this.#up!.key)
    up.listener = this
    this.#up = up
    up.write(this.#headBytes!)
    this.#dial(up)
  }

  /** Read (and relay interim) heads; returns the bytes after the final head, or undefined to wait. */
  #readResponseHead(data: Buffer): Buffer | undefined {
    let buf = this.#resBuf ? Buffer.concat([this.#resBuf, data]) : data
    const scan = this.#up!.scan
    for (;;) {
      try {
        if (!scan.scan(buf)) {
          this.#resBuf = buf
          return undefined
        }
      } catch (err) {
        this.#up?.destroy()
        this.#fail(err)
        return undefined
      }
      const rest = buf.subarray(scan.length)
      if (scan.status >= 200) {
        this.#resBuf = undefined
        this.#startResponse(scan)
        return rest
      }
      if (scan.status === 101) {
        this.#upgrade(scan, rest)
        return undefined
      }
      // 1xx interim (100 Continue, 103 Early Hints): relay to HTTP/1.1 clients only (RFC 9110 §15.2).
      if (this.#client.minor === 1) {
        this.#out.push(copyResponseHead(scan, false, '', undefined))
        this.#flushOut()
      }
      buf = rest
    }
  }

  #startResponse(scan: ResponseScan): void {
    this.#resStarted = true
    this.#status = scan.status
    const noBody = this.head.method === 'HEAD' || scan.status === 204 || scan.status === 304
    this.#resKind = noBody ? 'none' : scan.body
    if (this.#resKind === 'length') {
      this.#resRemaining = scan.contentLength
      if (scan.contentLength === 0) {
        this.#resKind = 'none'
      }
    } else if (this.#resKind === 'chunked') {
      this.#resChunks = new ChunkedDecoder()
    }
    if (scan.close || (scan.minor === 0 && !scan.keepAlive) || this.#resKind === 'close') {
      this.#reusable = false
    }
    if (this.#resKind === 'close' || (this.#resKind === 'chunked' && this.#client.minor === 0)) {
      this.#keepAliveClient = false
    }
    if (!this.requestDone) {
      // The origin answered before the request body ended: the rest of the
      // body will not be read, so neither connection can be reused.
      this.#keepAliveClient = false
      this.#reusable = false
    }
    let extra = this.#connectionHeader()
    const added = this.verdict.responseHeaders
    if (added) {
      for (let i = 0; i < added.length; i += 2) {
        extra += `${added[i]}: ${added[i + 1]}\r\n`
      }
    }
    if (this.#resKind === 'chunked' && this.#client.minor === 1) {
      extra += 'Transfer-Encoding: chunked\r\n'
    }
    // A Content-Length only describes a body relayed as is (or a HEAD/304's).
    const dropLength = scan.body !== 'length' && !noBody
    this.#out.push(copyResponseHead(scan, dropLength, extra, undefined))
    if (this.#resKind === 'none') {
      this.responseDone = true
    }
  }

  #connectionHeader(): string {
    if (!this.#keepAliveClient || this.#ctx.draining) {
      this.#keepAliveClient = false
      return 'Connection: close\r\n'
    }
    return this.#client.minor === 0 ? 'Connection: keep-alive\r\n' : ''
  }

  #relayBody(data: Buffer): void {
    if (data.length === 0 || this.responseDone) {
      if (data.length > 0) {
        this.#reusable = false
      }
      return
    }
    switch (this.#resKind) {
      case 'length': {
        const take = Math.min(this.#resRemaining, data.length)
        this.#emitBody(take === data.length ? data : data.subarray(0, take))
        this.#resRemaining -= take
        if (take < data.length) {
          this.#reusable = false
        }
        this.responseDone = this.#resRemaining === 0
        return
      }
      case 'chunked': {
        let end: number
        try {
          end = this.#resChunks!.feed(data, 0, (this.#resSlices ??= []))
        } catch (err) {
          this.#error = `upstream sent a malformed chunked body: ${(err as Error).message}`
          this.#up?.destroy()
          this.#flushOut()
          this.#client.abort()
          this.#end(false)
          return
        }
        const done = this.#resChunks!.done
        this.#bytesOut += totalLength(this.#resSlices!)
        const encoded = encodeChunks(this.#resSlices!, done, this.#client.minor === 1)
        if (encoded.length > 0) {
          this.#out.push(encoded)
        }
        this.responseDone = done
        if (end < data.length) {
          this.#reusable = false
        }
        return
      }
      case 'close':
        this.#emitBody(data)
        return
      case 'none':
        this.#reusable = false
    }
  }

  #emitBody(data: Uint8Array): void {
    this.#bytesOut += data.length
    this.#out.push(data)
  }

  #flushOut(): void {
    const out = this.#out
    if (out.length === 0) {
      return
    }
    const data = out.length === 1 ? out[0] : Buffer.concat(out)
    out.length = 0
    if (!this.#client.write(data)) {
      this.#up?.pause()
    }
  }

  #upgrade(scan: ResponseScan, rest: Buffer): void {
    const up = this.#up!
    if (!this.#isWebSocket) {
      up.destroy()
      this.#fail(
        new UpstreamError('ROXY_E_UPSTREAM_PROTOCOL', 'upstream switched protocols unasked'),
      )
      return
    }
    this.#status = 101
    this.#client.write(scan.buf.slice(0, scan.length))
    this.responseDone = true
    up.listener = undefined
    this.#up = undefined
    this.#end(undefined)
    this.#client.startTunnel(up, rest.length > 0 ? rest : undefined)
  }

  /** Answer from the verdict (block, 429); returns -1 when the connection closes. */
  #answerLocally(): number {
    const v = this.verdict
    this.#status = v.status
    this.responseDone = true
    // A body that was sent is not read: close rather than guess where it ends.
    const keepAlive = this.requestDone && this.#keepAliveClient && !this.#ctx.draining
    this.#client.respond(v.status, v.body, v.responseHeaders, !keepAlive)
    this.#end(keepAlive)
    return keepAlive ? 0 : -1
  }

  #failRequest(err: Error): void {
    this.#error = `malformed request body: ${err.message}`
    this.#up?.destroy()
    this.#status = 400
    this.responseDone = true
    this.#client.respond(400, 'Bad Request: malformed chunked body\n', undefined, true)
    this.#end(false)
  }

  /** Answer the failure as 502/504 while no response head went out. */
  #fail(err: unknown): void {
    const status = statusForError(err)
    this.#status = status
    this.#error = describeError(err)
    this.responseDone = true
    this.#up?.destroy()
    const keepAlive = this.requestDone && this.#keepAliveClient && !this.#ctx.draining
    const reason = err instanceof Error ? err.message : 'upstream failure'
    const title = status === 504 ? 'Gateway Timeout' : 'Bad Gateway'
    this.#client.respond(status, `${title}: ${reason}\n`, undefined, !keepAlive)
    this.#end(keepAlive)
  }

  #finish(): void {
    const up = this.#up
    if (up) {
      up.uses++
      if (this.requestDone && this.#reusable && !up.isClosed) {
        this.#ctx.pool.release(up, Date.now())
      } else {
        up.destroy()
      }
      this.#up = undefined
    }
    this.#end(this.#keepAliveClient && !this.#ctx.draining)
  }

  /**
   * Bookkeeping shared by every way an exchange ends: the log line, then the
   * client is told whether its connection may carry another request
   * (`undefined`: it is becoming a tunnel and needs no word).
   */
  #end(keepAlive: boolean | undefined): void {
    if (this.deadline === -1) {
      return
    }
    this.deadline = -1
    this.responseDone = true
    deadlines.delete(this)
    this.#writeLog()
    if (keepAlive !== undefined) {
      this.#client.onExchangeDone(this, keepAlive)
    }
  }

  #writeLog(): void {
    this.#ctx.stats.inFlight--
    this.#ctx.stats.requests++
    const v = this.verdict
    const durationMs = performance.now() - this.#start
    this.#ctx.observer?.observe(v.rule ?? '', v.action, durationMs)
    const level = this.#status >= 500 ? 'warn' : v.logLevel
    if (!log.isEnabled(level, 'proxy')) {
      return
    }
    // Method and host are tokens and action a constant: no escaping needed.
    const t = this.target
    let json =
      `"method":"${this.head.method}","host":"${t.host}","path":${JSON.stringify(t.path)}` +
      `,"action":"${v.action}","status":${this.#status},"bytes":${this.#bytesOut}` +
      `,"duration_ms":${Math.round(durationMs * 100) / 100},"client":"${this.#client.ip}"`
    if (v.rule !== undefined) {
      json += `,"rule":${JSON.stringify(v.rule)}`
    }
    if (v.loggedHeaders !== undefined) {
      json += `,"headers":${formatHeaders(v.loggedHeaders)}`
    }
    if (this.#error !== undefined) {
      json += `,"error":${JSON.stringify(this.#error)}`
    }
    log.logJson(level, 'proxy', 'request', json)
  }
}

function totalLength(slices: readonly Uint8Array[]): number {
  let n = 0
  for (const s of slices) {
    n += s.length
  }
  return n
}
