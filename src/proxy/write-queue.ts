/**
 * Ordered writes to a Bun socket with backpressure.
 *
 * `Socket.write` is unbuffered: it returns how many bytes the kernel took,
 * and the rest is ours to keep until `drain`. The queue holds those rests
 * (and everything written before the socket opened). A non-empty queue means
 * "stop reading the other side"; the owner pauses its source and resumes it
 * when `flush` empties the queue. Memory per direction is therefore bounded
 * by one read (Bun reads at most 64 KiB at a time).
 */
import type { Socket } from 'bun'

export class WriteQueue {
  #pending: Uint8Array[] = []
  #bytes = 0

  get isEmpty(): boolean {
    return this.#bytes === 0
  }

  get bytes(): number {
    return this.#bytes
  }

  /** Write now if possible; keep what the socket did not take. Returns true if nothing is queued. */
  write(socket: Socket<unknown> | undefined, data: Uint8Array): boolean {
    if (data.length === 0) {
      return this.#bytes === 0
    }
    if (socket === undefined || this.#bytes > 0) {
      this.#push(data)
      return false
    }
    const written = socket.write(data)
    if (written < data.length) {
      this.#push(written > 0 ? data.subarray(written) : data)
      return false
    }
    return true
  }

  /** Write what is queued; call on `open` and `drain`. Returns true when the queue is empty. */
  flush(socket: Socket<unknown>): boolean {
    while (this.#pending.length > 0) {
      const head = this.#pending[0]
      const written = socket.write(head)
      if (written < head.length) {
        if (written > 0) {
          this.#pending[0] = head.subarray(written)
          this.#bytes -= written
        }
        return false
      }
      this.#pending.shift()
      this.#bytes -= head.length
    }
    return true
  }

  clear(): void {
    this.#pending = []
    this.#bytes = 0
  }

  #push(data: Uint8Array): void {
    this.#pending.push(data)
    this.#bytes += data.length
  }
}
