/**
 * IP literals as the bytes an iPAddress subjectAltName carries (RFC 5280 §4.2.1.6):
 * 4 bytes for IPv4, 16 for IPv6 (RFC 4291 §2.2 text forms, including `::` and a
 * trailing dotted IPv4 part). Hosts arrive without brackets or port.
 */
import { isIPv4, isIPv6 } from 'node:net'

/** The address bytes of an IP literal, or undefined when `host` is a name (or has a zone id). */
export function parseIpAddress(host: string): Uint8Array | undefined {
  if (isIPv4(host)) {
    return parseIpv4(host)
  }
  if (isIPv6(host) && !host.includes('%')) {
    return parseIpv6(host)
  }
  return undefined
}

function parseIpv4(text: string): Uint8Array {
  return Uint8Array.from(text.split('.'), Number)
}

function parseIpv6(text: string): Uint8Array {
  const bytes = new Uint8Array(16)
  const gap = text.indexOf('::')
  const head = gap < 0 ? text : text.slice(0, gap)
  const tail = gap < 0 ? '' : text.slice(gap + 2)
  const headGroups = splitGroups(head)
  const tailGroups = splitGroups(tail)
  writeGroups(bytes, 0, headGroups)
  writeGroups(bytes, 16 - 2 * tailGroups.length, tailGroups)
  return bytes
}

/** Hex groups of 16 bits; a final dotted IPv4 part counts as two groups. */
function splitGroups(text: string): number[] {
  if (!text) {
    return []
  }
  const groups: number[] = []
  for (const part of text.split(':')) {
    if (part.includes('.')) {
      const [a, b, c, d] = parseIpv4(part)
      groups.push((a << 8) | b, (c << 8) | d)
    } else {
      groups.push(parseInt(part, 16))
    }
  }
  return groups
}

function writeGroups(bytes: Uint8Array, offset: number, groups: number[]): void {
  for (let i = 0; i < groups.length; i++) {
    bytes[offset + 2 * i] = groups[i] >> 8
    bytes[offset + 2 * i + 1] = groups[i] & 0xff
  }
}
