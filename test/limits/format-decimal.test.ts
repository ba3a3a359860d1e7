import { describe, expect, test } from 'bun:test'
import { formatDecimal } from '../../src/limits/format-decimal.ts'

describe('formatDecimal', () => {
  test.each([
    [0, '0'],
    [7, '7'],
    [2047, '2047'],
    [86_400, '86400'],
    [1_000_000_000, '1000000000'],
    [1.5, '1.5'],
    [-3, '-3'],
  ])('%p should read %p, again and again', (n, text) => {
    expect(formatDecimal(n)).toBe(text)
    expect(formatDecimal(n)).toBe(text)
  })

  test('two values sharing a cache slot should each keep their own text', () => {
    expect([formatDecimal(5), formatDecimal(5 + 2048), formatDecimal(5)]).toEqual([
      '5',
      '2053',
      '5',
    ])
  })
})
