import { describe, expect, test } from 'bun:test'
import { measureEditDistance, suggestClosest } from '../../src/config/did-you-mean.ts'
import { isHeaderName, isHeaderValue } from '../../src/config/header-syntax.ts'
import { formatListenAddress, parseListenAddress } from '../../src/config/listen-address.ts'
import { checkResetSchedule } from '../../src/config/reset-schedule-syntax.ts'

describe('parseListenAddress', () => {
  // prettier-ignore
  test.each([
    ['127.0.0.1:8080', '127.0.0.1', 8080],
    ['0.0.0.0:0', '0.0.0.0', 0],
    ['[::1]:8080', '::1', 8080],
    ['[::]:65535', '::', 65535],
    ['localhost:3128', 'localhost', 3128],
    ['proxy.internal.example:80', 'proxy.internal.example', 80],
  ])('should read %s', (text, host, port) => {
    const address = parseListenAddress(text)
    expect(address).toEqual({ host, port })
    expect(formatListenAddress(address)).toBe(text)
  })

  // prettier-ignore
  test.each([
    ['8080', "expected 'host:port'"],
    ['127.0.0.1:', 'port must be'],
    ['127.0.0.1:-1', 'port must be'],
    ['127.0.0.1:123456', 'port must be'],
    ['[::1]8080', "expected '[ipv6]:port'"],
    ['fe80::1:80', 'needs brackets'],
    ['-bad-.example:80', 'neither an IP address nor a host name'],
    ['1.2.3:80', 'neither an IP address nor a host name'],
  ])('should refuse %s', (text, reason) => {
    expect(() => parseListenAddress(text)).toThrow(reason)
  })
})

describe('suggestClosest', () => {
  const keys = ['listen', 'tls', 'rules', 'reload_interval_secs', 'shutdown_grace_secs']
  // prettier-ignore
  test.each([
    ['lisen', 'listen'],
    ['tsl', 'tls'],
    ['Rules', 'rules'],
    ['reload_interval', 'reload_interval_secs'],
    ['shutdown_grace_sec', 'shutdown_grace_secs'],
    ['colour', undefined],
    ['x'.repeat(10_000), undefined],
  ])('%s should suggest %s', (word, expected) => {
    expect(suggestClosest(word, keys)).toBe(expected)
  })

  // prettier-ignore
  test.each([
    ['kitten', 'sitting', 3],
    ['ab', 'ba', 1],
    ['', 'abc', 3],
    ['same', 'same', 0],
  ])('distance from %s to %s should be %d', (a, b, d) => {
    expect(measureEditDistance(a, b)).toBe(d)
  })
})

describe('checkResetSchedule', () => {
  // prettier-ignore
  test.each([
    'daily@00:00',
    'daily@23:59',
    'weekly@Mon-09:00',
    'weekly@sun-00:00',
    'weekly@Wednesday-12:30',
    'monthly@1-00:00',
    'monthly@28-23:59',
    'monthly@01-06:00',
  ])('should accept %s', (text) => {
    expect(() => checkResetSchedule(text)).not.toThrow()
  })

  // prettier-ignore
  test.each([
    ['hourly@00:00', "expected 'daily@HH:MM'"],
    ['daily@24:00', '00:00 to 23:59'],
    ['daily@12:60', '00:00 to 23:59'],
    ['daily@Mon-12:00', 'takes only a time'],
    ['weekly@12:00', 'needs a day Mon..Sun'],
    ['weekly@Mo-12:00', 'needs a day Mon..Sun'],
    ['monthly@0-00:00', '1..28'],
    ['monthly@31-00:00', '1..28'],
    ['monthly@Mon-00:00', '1..28'],
    ['daily@0000', "expected 'daily@HH:MM'"],
  ])('should refuse %s', (text, reason) => {
    expect(() => checkResetSchedule(text)).toThrow(reason)
  })
})

describe('header syntax (RFC 9110)', () => {
  // prettier-ignore
  test.each([
    ['X-Request-Id', true],
    ["!#$%&'*+-.^_`|~09azAZ", true],
    ['', false],
    ['X Bad', false],
    ['X:Bad', false],
    ['Ünicode', false],
    ['X(paren)', false],
  ])('name %j valid: %p', (name, ok) => {
    expect(isHeaderName(name)).toBe(ok)
  })

  // prettier-ignore
  test.each([
    ['plain value', true],
    ['tab\there', true],
    ['', true],
    ['obs-text é', true],
    ['split\r\nX-Evil: 1', false],
    ['lf\nonly', false],
    ['nul\0', false],
    ['del\x7f', false],
    ['bell\x07', false],
  ])('value %j valid: %p', (value, ok) => {
    expect(isHeaderValue(value)).toBe(ok)
  })
})
