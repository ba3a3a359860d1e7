/**
 * A raw byte tunnel between a client and an origin: CONNECT to a bypassed
 * or non-TLS destination, and WebSocket after a 101. Bytes are relayed as
 * they come, with backpressure both ways; either side closing ends both.
 */
import type { UpstreamError } from '../errors.ts'
import { describeError, log } from '../observe/log.ts'
import type { Verdict } from './policy.ts'
import type { Upstream, UpstreamListener } from './upstream.ts'

/** What a tunnel needs of the client connection. */
export interface TunnelClient {
  readonly ip: string
  write(data: Uint8Array): boolean
  pause(): void
  resume(): void
  /** Close after what is queued has been written. */
  end(): void
}

export class Tunnel implements UpstreamListener {
  #client: TunnelClient
  #up: Upstream
  #host: string
  #verdict: Verdict | undefined
  #bytesUp = 0
  #bytesDown = 0
  #start = performance.now()
  #closed = false
  /** Called once the upstream is connected (CONNECT answers 200 then). */
  onOpen: (() => void) | undefined
  /** Called when the upstream could not be reached (CONNECT answers 502). */
  onFail: ((err: UpstreamError) => void) | undefined

  constructor(client: TunnelClient, up: Upstream, host: string, verdict: Verdict | undefined) {
    this.#client = client
    this.#up = up
    this.#host = host
    this.#verdict = verdict
    up.listener = this
  }

  get isOpen(): boolean {
    return this.#up.isOpen
  }

  fromClient(data: Uint8Array): void {
    this.#bytesUp += data.length
    if (!this.#up.write(data)) {
      this.#client.pause()
    }
  }

  onClientDrain(): void {
    this.#up.resume()
  }

  onClientClose(): void {
    if (!this.#closed) {
      this.#up.destroy()
      this.#finish(undefined)
    }
  }

  onUpstreamOpen(): void {
    this.onOpen?.()
    this.onOpen = undefined
  }

  onUpstreamData(data: Buffer): void {
    this.#bytesDown += data.length
    if (!this.#client.write(data)) {
      this.#up.pause()
    }
  }

  onUpstreamDrain(): void {
    this.#client.resume()
  }

  onUpstreamClose(err: UpstreamError | undefined): void {
    if (!this.#up.isOpen && err && this.onFail) {
      this.onFail(err)
      this.onFail = undefined
      this.#finish(err)
      return
    }
    this.#client.end()
    this.#finish(err)
  }

  #finish(err: UpstreamError | undefined): void {
    if (this.#closed) {
      return
    }
    this.#closed = true
    const level = this.#verdict?.logLevel ?? 'info'
    if (log.isEnabled(level, 'proxy')) {
      log.log(level, 'proxy', 'tunnel', {
        host: this.#host,
        rule: this.#verdict?.rule,
        action: 'tunnel',
        bytes_up: this.#bytesUp,
        bytes: this.#bytesDown,
        duration_ms: Math.round(performance.now() - this.#start),
        client: this.#client.ip,
        error: err ? describeError(err) : undefined,
      })
    }
  }
}
