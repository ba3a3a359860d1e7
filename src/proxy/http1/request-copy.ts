/**
 * The request head for the origin, copied from the client's bytes: a new
 * request line and Host first, then every field line the client sent that
 * `isDropped` does not reject — consecutive kept lines in one copy — then
 * the framing lines and the empty line. Field lines map one to one onto the
 * parsed headers: the parser refuses obs-fold, so each field is one line.
 */
import type { RequestHead } from './head.ts'

const LF = 10

export function copyRequestHead(
  head: RequestHead,
  start: string,
  end: string,
  isDropped: (name: string) => boolean,
): Buffer {
  const raw = head.raw
  const headers = head.headers
  // Runs of kept lines as [from, to) pairs.
  const runs: number[] = []
  let pos = raw.indexOf(LF) + 1
  let size = start.length + end.length
  for (let i = 0; i < headers.length; i += 2) {
    const next = raw.indexOf(LF, pos) + 1
    if (!isDropped(headers[i])) {
      if (runs.length > 0 && runs[runs.length - 1] === pos) {
        runs[runs.length - 1] = next
      } else {
        runs.push(pos, next)
      }
      size += next - pos
    }
    pos = next
  }
  const out = Buffer.allocUnsafe(size)
  let at = out.write(start, 0, 'latin1')
  for (let r = 0; r < runs.length; r += 2) {
    out.set(raw.subarray(runs[r], runs[r + 1]), at)
    at += runs[r + 1] - runs[r]
  }
  out.write(end, at, 'latin1')
  return out
}
