/**
 * Streaming decoder for the chunked transfer coding (RFC 9112 §7.1).
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk   = 1*("0") [ chunk-ext ] CRLF
 *
 * The decoder never buffers: payload bytes are handed out as sub-views of
 * the input, and extensions and trailers are skipped (bounded in length).
 * roxy re-frames bodies it forwards, so nothing of the original framing —
 * extensions, trailers, odd sizes — reaches the other side.
 */

const enum State {
  Size,
  SizeWs,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  EndLf,
  Done,
}

const CR = 13
const LF = 10
const MAX_SIZE_DIGITS = 13 // 16^13 bytes = 4 PiB: plenty, and exact in a double.
const MAX_EXT_BYTES = 4096
const MAX_TRAILER_BYTES = 64 * 1024

export class ChunkedError extends Error {
  override name = 'ChunkedError'
}

export class ChunkedDecoder {
  #state = State.Size
  #remaining = 0
  #digits = 0
  #skipped = 0

  get done(): boolean {
    return this.#state === State.Done
  }

  /**
   * Consume bytes from `buf` starting at `start`, pushing payload views into
   * `out`. Returns the index just past the last byte consumed: the end of the
   * message when `done`, else `buf.length`. Throws `ChunkedError` on a
   * malformed body.
   */
  feed(buf: Uint8Array, start: number, out: Uint8Array[]): number {
    let i = start
    while (i < buf.length) {
      const state = this.#state
      if (state === State.Done) {
        return i
      }
      if (state === State.Data) {
        const take = Math.min(this.#remaining, buf.length - i)
        out.push(buf.subarray(i, i + take))
        i += take
        this.#remaining -= take
        if (this.#remaining === 0) {
          this.#state = State.DataCr
        }
        continue
      }
      this.#step(buf[i])
      i++
    }
    return i
  }

  #step(c: number): void {
    switch (this.#state) {
      case State.Size:
        return this.#readSize(c)
      case State.SizeWs:
        if (c === 0x20 || c === 0x09) {
          return
        }
        if (c === 0x3b /* ; */) {
          this.#enterExt()
          return
        }
        return this.#expect(c, CR, State.SizeLf, 'chunk size')
      case State.Ext:
        if (c === CR) {
          this.#state = State.SizeLf
          return
        }
        if (c === LF || ++this.#skipped > MAX_EXT_BYTES) {
          throw new ChunkedError('malformed chunk extension')
        }
        return
      case State.SizeLf:
        this.#expect(c, LF, State.Data, 'chunk size line')
        if (this.#remaining === 0) {
          this.#state = State.TrailerStart
          this.#skipped = 0
        }
        return
      case State.DataCr:
        return this.#expect(c, CR, State.DataLf, 'chunk data')
      case State.DataLf:
        this.#expect(c, LF, State.Size, 'chunk data')
        this.#digits = 0
        return
      case State.TrailerStart:
        this.#state = c === CR ? State.EndLf : State.Trailer
        return this.#countTrailer()
      case State.Trailer:
        if (c === CR) {
          this.#state = State.TrailerLf
        }
        return this.#countTrailer()
      case State.TrailerLf:
        this.#expect(c, LF, State.TrailerStart, 'trailer field')
        return this.#countTrailer()
      case State.EndLf:
        return this.#expect(c, LF, State.Done, 'chunked body end')
    }
  }

  #readSize(c: number): void {
    const digit = hexValue(c)
    if (digit >= 0) {
      if (++this.#digits > MAX_SIZE_DIGITS) {
        throw new ChunkedError('chunk size too large')
      }
      this.#remaining = this.#remaining * 16 + digit
      return
    }
    if (this.#digits === 0) {
      throw new ChunkedError('invalid chunk size')
    }
    if (c === 0x20 || c === 0x09) {
      this.#state = State.SizeWs
    } else if (c === 0x3b /* ; */) {
      this.#enterExt()
    } else {
      this.#expect(c, CR, State.SizeLf, 'chunk size')
    }
  }

  #enterExt(): void {
    this.#state = State.Ext
    this.#skipped = 0
  }

  #countTrailer(): void {
    if (++this.#skipped > MAX_TRAILER_BYTES) {
      throw new ChunkedError('trailer section too large')
    }
  }

  #expect(c: number, wanted: number, next: State, where: string): void {
    if (c !== wanted) {
      throw new ChunkedError(`malformed ${where}`)
    }
    this.#state = next
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) {
    return c - 0x30
  }
  const lower = c | 0x20
  if (lower >= 0x61 && lower <= 0x66) {
    return lower - 0x61 + 10
  }
  return -1
}

/** The line that opens a chunk of `size` bytes on the wire. */
export function chunkHeader(size: number): string {
  return `${size.toString(16)}\r\n`
}

export const LAST_CHUNK = '0\r\n\r\n'

const CRLF = Buffer.from('\r\n')
const EMPTY = new Uint8Array(0)
const LAST_CHUNK_BYTES = Buffer.from(LAST_CHUNK, 'latin1')

/**
 * Re-frame decoded payloads as chunks (or pass them raw when `chunked` is
 * false: an HTTP/1.0 client, delimited by close), ending with the last chunk
 * when `done`. Empties `slices`; returns one buffer for one write.
 */
export function encodeChunks(slices: Uint8Array[], done: boolean, chunked: boolean): Uint8Array {
  if (slices.length === 0 && !done) {
    return EMPTY
  }
  const parts: Uint8Array[] = []
  for (const slice of slices) {
    if (slice.length === 0) {
      continue
    }
    if (chunked) {
      parts.push(Buffer.from(chunkHeader(slice.length), 'latin1'), slice, CRLF)
    } else {
      parts.push(slice)
    }
  }
  if (done && chunked) {
    parts.push(LAST_CHUNK_BYTES)
  }
  slices.length = 0
  return parts.length === 1 ? parts[0] : Buffer.concat(parts)
}
