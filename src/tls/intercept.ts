/**
 * Terminating TLS inside a CONNECT tunnel, on the very socket `Bun.listen` accepted.
 *
 * The proxy reads `CONNECT host:port`, answers 200, and the client's next bytes decide:
 * 0x16 starts a TLS ClientHello. By then the data callback has consumed those bytes.
 * Bun 1.4.5 takes them back: a server-side socket can be upgraded in place with
 *
 *   socket.upgradeTLS({ isServer: true, initialData: bytesAlreadyRead, tls, socket, data })
 *
 * (`isServer` and `initialData` are missing from bun-types 1.4.5; they exist since
 * oven-sh/bun#31155 and are what node:tls uses for `new TLSSocket(sock, {isServer})`).
 * The bytes are fed to the TLS engine synchronously, before the call returns, so handshake
 * and close callbacks can fire inside it; this module keeps its state in closures made
 * before the call for that reason. Alternatives measured (docs/tls.md): a node:tls
 * TLSSocket over a JS Duplex (1.3 to 1.8x the CPU, about 4x the memory per idle tunnel)
 * and relaying into an internal `Bun.listen({ tls })` (two more sockets per tunnel, 2 to
 * 3x the CPU per request, no per-host certificate without SNI callbacks).
 *
 * Two Bun behaviours the proxy must handle (oven-sh/bun#36534 describes the first):
 * 1. The raw half keeps firing the listener's `data` handler with the ciphertext ("raw
 *    tap"), and its `close` as well. The proxy ignores both once a tunnel is intercepted,
 *    and may pass the ciphertext to `noteCiphertext` to catch a plaintext alert.
 *    `raw.reload()` is not a way out: on an accepted socket it replaces the handlers of
 *    every connection of the listener.
 * 2. `ALPNProtocols` must be in wire format (length-prefixed); a plain 'http/1.1' string
 *    makes every handshake fail with `no_application_protocol`.
 */
import type { Socket, SocketHandler, TLSOptions, TLSUpgradeOptions } from 'bun'
import { classifyClientTlsFailure } from './classify-tls-error.ts'
import type { ClientTlsFailure } from './classify-tls-error.ts'

/** Certificate chain and key presented to the client, PEM (a `LeafCredentials` fits). */
export interface InterceptCredentials {
  cert: string
  key: string
}

export interface TlsInterceptorOptions<Data> {
  /**
   * Handlers of the plaintext side, as for `Bun.listen`. `data`, `drain` and `end` are
   * installed as they are (nothing in between on the hot path). `open` fires once the
   * handshake succeeded; `close` fires exactly once, after a failed handshake too.
   */
  handlers: SocketHandler<Data>
  /** `server_timeouts.tls_handshake_timeout_secs` in ms; 0 = no limit. */
  handshakeTimeoutMs: number
  /** Called once when a client's handshake fails or times out, before `close`. */
  onHandshakeFailure?: (socket: Socket<Data>, failure: ClientTlsFailure) => void
}

/** First byte of a TLS record carrying a handshake message (RFC 8446 §5.1). */
export const TLS_HANDSHAKE_RECORD = 0x16
const TLS_ALERT_RECORD = 0x15
/** `http/1.1` as an ALPN protocol list (RFC 7301 §3.1): one length byte, then the name. */
const ALPN_HTTP1 = Buffer.from('\x08http/1.1', 'latin1')

/** Server-side form of `upgradeTLS` (see the header). */
interface ServerUpgradeOptions<Data> extends TLSUpgradeOptions<Data> {
  isServer: true
  initialData: Uint8Array
}

interface HandshakeState {
  done: boolean
  alert?: number
  timer?: ReturnType<typeof setTimeout>
}

/** True when the first bytes a client sent in a tunnel start a TLS handshake record. */
export function isTlsClientHello(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === TLS_HANDSHAKE_RECORD
}

/**
 * Terminates TLS on accepted sockets. Make one per handler set; `intercept` per tunnel.
 *
 * @example
 *   const interceptor = new TlsInterceptor({ handlers: http1Handlers, handshakeTimeoutMs: 15_000 })
 *   // in the listener's data handler, after the 200, with the first tunnel bytes; while a
 *   // leaf is minted, buffer what else arrives (docs/tls.md, test/tls/intercept-proxy.ts)
 *   conn.tls = interceptor.intercept(socket, chunk, leaf, innerConn)
 */
export class TlsInterceptor<Data> {
  #options: TlsInterceptorOptions<Data>
  #states = new WeakMap<Socket<Data>, HandshakeState>()
  #tlsOptions = new WeakMap<InterceptCredentials, TLSOptions>()
  #handshaking = 0

  constructor(options: TlsInterceptorOptions<Data>) {
    this.#options = options
  }

  /** Tunnels whose handshake is under way (for metrics). */
  get handshaking(): number {
    return this.#handshaking
  }

  /**
   * Start TLS as the server on `raw`, replaying `firstBytes` (what the proxy already read
   * of the ClientHello) into the engine. Returns the plaintext socket, whose `data` is
   * `data`. Throws when Bun refuses the credentials; `raw` is then the caller's to close.
   */
  intercept<RawData>(
    raw: Socket<RawData>,
    firstBytes: Uint8Array,
    credentials: InterceptCredentials,
    data: Data,
  ): Socket<Data> {
    const state: HandshakeState = { done: false }
    this.#handshaking++
    const options: ServerUpgradeOptions<Data> = {
      isServer: true,
      initialData: firstBytes,
      data,
      tls: this.#buildTlsOptions(credentials),
      socket: this.#buildHandlers(state),
    }
    try {
      const tls = raw.upgradeTLS<Data>(options)[1]
      this.#states.set(tls, state)
      this.#armTimer(state, tls)
      return tls
    } catch (err) {
      this.#settle(state)
      throw err
    }
  }

  /**
   * Optional: pass the ciphertext the raw half still reports (see the header). While the
   * handshake runs, a plaintext alert in it is remembered to classify the failure; after
   * that this is a WeakMap lookup and nothing else.
   */
  noteCiphertext(tls: Socket<Data>, chunk: Uint8Array): void {
    const state = this.#states.get(tls)
    // An alert record: type, version (2 bytes), length (2 bytes), level, description.
    if (state && !state.done && chunk.length >= 7 && chunk[0] === TLS_ALERT_RECORD) {
      state.alert = chunk[6]
    }
  }

  #buildTlsOptions(credentials: InterceptCredentials): TLSOptions {
    let options = this.#tlsOptions.get(credentials)
    if (!options) {
      options = {
        cert: credentials.cert,
        key: credentials.key,
        ALPNProtocols: ALPN_HTTP1,
        requestCert: false,
        rejectUnauthorized: false,
      }
      this.#tlsOptions.set(credentials, options)
    }
    return options
  }

  /** Per-tunnel wrappers for the lifecycle events; data, drain and end go straight through. */
  #buildHandlers(state: HandshakeState): SocketHandler<Data> {
    const user = this.#options.handlers
    return {
      data: user.data,
      drain: user.drain,
      end: user.end,
      error: user.error,
      timeout: user.timeout,
      binaryType: user.binaryType,
      handshake: (tls, success, authorizationError) => {
        if (state.done) {
          return
        }
        this.#settle(state)
        if (success) {
          user.open?.(tls)
        } else {
          this.#fail(tls, classifyClientTlsFailure(authorizationError, state.alert))
        }
      },
      close: (tls, err) => {
        if (!state.done) {
          this.#settle(state)
          this.#fail(tls, classifyClientTlsFailure(err ?? { code: 'ECONNRESET' }, state.alert))
        }
        user.close?.(tls, err)
      },
    }
  }

  #armTimer(state: HandshakeState, tls: Socket<Data>): void {
    const ms = this.#options.handshakeTimeoutMs
    if (state.done || ms <= 0) {
      return
    }
    state.timer = setTimeout(() => {
      if (state.done) {
        return
      }
      this.#settle(state)
      const reason = `no complete handshake within ${ms} ms`
      this.#fail(tls, { kind: 'timeout', reason })
      tls.terminate()
    }, ms)
    state.timer.unref()
  }

  #settle(state: HandshakeState): void {
    if (state.done) {
      return
    }
    state.done = true
    this.#handshaking--
    if (state.timer) {
      clearTimeout(state.timer)
      state.timer = undefined // the closures outlive the handshake; let the timer go
    }
  }

  #fail(tls: Socket<Data>, failure: ClientTlsFailure): void {
    this.#options.onHandshakeFailure?.(tls, failure)
  }
}
