/**
 * Real loopback servers and clients for end-to-end tests. All bind
 * 127.0.0.1 on port 0; callers stop them (`using`/`await using`).
 */
import type { Server, Socket, TCPSocketListener } from 'bun'
import { runCommand } from './run-command.ts'

/** An HTTP upstream built on Bun.serve. */
export function httpUpstream(
  fetch: (req: Request, server: Server<undefined>) => Response | Promise<Response>,
) {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch, idleTimeout: 30 })
  return {
    server,
    port: server.port as number,
    origin: `http://127.0.0.1:${server.port}`,
    stop: () => server.stop(true),
    [Symbol.dispose]() {
      server.stop(true)
    },
  }
}

export interface RawConn {
  socket: Socket<RawConn>
  /** Everything received on this connection, as latin1 text. */
  received: string
  closed: boolean
}

/**
 * A raw TCP upstream: records every byte it receives and lets the test
 * answer with exact bytes through `onData`.
 */
export function rawUpstream(onData: (conn: RawConn, chunk: string) => void) {
  const conns: RawConn[] = []
  const listener: TCPSocketListener<RawConn> = Bun.listen<RawConn>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket) {
        socket.data = { socket, received: '', closed: false }
        conns.push(socket.data)
      },
      data(socket, data) {
        const chunk = data.toString('latin1')
        socket.data.received += chunk
        onData(socket.data, chunk)
      },
      close(socket) {
        socket.data.closed = true
      },
      error() {},
    },
  })
  return {
    port: listener.port,
    origin: `http://127.0.0.1:${listener.port}`,
    conns,
    /** All bytes received on every connection, in connection order. */
    allReceived: () => conns.map((c) => c.received).join(''),
    stop: () => listener.stop(true),
    [Symbol.dispose]() {
      listener.stop(true)
    },
  }
}

/** A raw client connection to the proxy that collects what comes back. */
export async function rawClient(port: number) {
  let received = Buffer.alloc(0)
  let closed = false
  let wake: (() => void) | undefined
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(_s, data) {
        received = Buffer.concat([received, data])
        wake?.()
      },
      close() {
        closed = true
        wake?.()
      },
      error() {},
    },
  })
  const client = {
    socket,
    get text() {
      return received.toString('latin1')
    },
    get bytes() {
      return received
    },
    get closed() {
      return closed
    },
    send(data: string | Uint8Array) {
      socket.write(data)
    },
    /** Wait until `until(text)` holds or the connection closes; rejects after `timeoutMs`. */
    async read(until: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
      const deadline = Date.now() + timeoutMs
      while (!until(client.text) && !closed) {
        const left = deadline - Date.now()
        if (left <= 0) {
          throw new Error(
            `timed out waiting; got so far: ${JSON.stringify(client.text.slice(0, 500))}`,
          )
        }
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, Math.min(left, 100))
        })
      }
      return client.text
    },
    /** Wait for the server to close the connection. */
    async waitClosed(timeoutMs = 5000): Promise<boolean> {
      await client.read(() => false, timeoutMs).catch(() => undefined)
      return closed
    },
    close() {
      socket.end()
    },
    [Symbol.dispose]() {
      socket.terminate()
    },
  }
  return client
}

/** Count complete HTTP responses in `text` that have Content-Length bodies. */
export function splitResponses(
  text: string,
): Array<{ head: string; status: number; body: string }> {
  const out: Array<{ head: string; status: number; body: string }> = []
  let rest = text
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n')
    if (end < 0) {
      break
    }
    const head = rest.slice(0, end)
    const status = Number(head.split(' ')[1])
    const m = /\r\ncontent-length: *(\d+)/i.exec(head)
    const len = m ? Number(m[1]) : 0
    out.push({ head, status, body: rest.slice(end + 4, end + 4 + len) })
    rest = rest.slice(end + 4 + len)
  }
  return out
}

/** Run curl with args; returns status code, stdout and stderr. Never uses a proxy from the environment. */
export function curl(args: string[], timeoutMs = 20_000) {
  return runCommand(['curl', '-sS', ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    timeoutMs,
  })
}
