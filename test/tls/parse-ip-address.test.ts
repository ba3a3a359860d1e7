import { describe, expect, test } from 'bun:test'
import { parseIpAddress } from '../../src/tls/parse-ip-address.ts'

const hex = (bytes: Uint8Array | undefined) =>
  bytes ? Buffer.from(bytes).toString('hex') : undefined

describe('parseIpAddress', () => {
  test.each([
    ['127.0.0.1', '7f000001'],
    ['0.0.0.0', '00000000'],
    ['255.255.255.255', 'ffffffff'],
    ['::1', '00000000000000000000000000000001'],
    ['::', '00000000000000000000000000000000'],
    ['2001:db8::8:800:200c:417a', '20010db80000000000080800200c417a'],
    ['fe80::', 'fe800000000000000000000000000000'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['::ffff:192.0.2.128', '00000000000000000000ffffc0000280'],
    ['64:ff9b::198.51.100.7', '0064ff9b0000000000000000c6336407'],
  ])('should encode %s as its address bytes', (host, expected) => {
    expect(hex(parseIpAddress(host))).toBe(expected)
  })

  test.each([
    ['a name', 'example.com'],
    ['a name that looks numeric', '1.2.3'],
    ['an out-of-range octet', '256.1.1.1'],
    ['an address with a zone id', 'fe80::1%eth0'],
    ['a bracketed address', '[::1]'],
    ['an empty string', ''],
  ])('should return undefined for %s', (_name, host) => {
    expect(parseIpAddress(host)).toBeUndefined()
  })
})
