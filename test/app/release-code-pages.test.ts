import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { findCleanFileRanges, releaseCodePages } from '../../src/app/release-code-pages.ts'

const EXE = '/opt/roxy/roxy'

/** One smaps entry; only the fields the trim reads, plus one it ignores. */
function entry(head: string, rssKb: number, anonymousKb: number, swapKb = 0): string {
  return [
    head,
    'Size:               1000 kB',
    `Rss:                ${rssKb} kB`,
    `Anonymous:          ${anonymousKb} kB`,
    `Swap:               ${swapKb} kB`,
    'VmFlags: rd ex mr mw me',
  ].join('\n')
}

describe('finding the clean pages of the executable in /proc/self/smaps', () => {
  // prettier-ignore
  test.each([
    [1, 'its read-only data', `00200000-01a39000 r--p 00000000 fe:00 53 ${EXE}`, 6500, 0, 0],
    [1, 'its machine code', `01a40000-0684a000 r-xp 01838000 fe:00 53 ${EXE}`, 31976, 0, 0],
    [0, 'its writable data', `06867000-06ae3000 rw-p 0665e000 fe:00 53 ${EXE}`, 1528, 0, 0],
    [0, 'read-only pages written before', `0685f000-06867000 r--p 06656000 fe:00 53 ${EXE}`, 32, 32, 0],
    [0, 'read-only pages swapped out', `0685f000-06867000 r--p 06656000 fe:00 53 ${EXE}`, 32, 0, 4],
    [0, 'nothing resident', `01a40000-0684a000 r-xp 01838000 fe:00 53 ${EXE}`, 0, 0, 0],
    [0, 'a shared mapping', `01a40000-0684a000 r-xs 01838000 fe:00 53 ${EXE}`, 100, 0, 0],
    [0, 'another file', '7f42c2421000-7f42c2577000 r-xp 00026000 fe:00 33 /usr/lib/libc.so.6', 1240, 0, 0],
    [0, 'a deleted executable', `01a40000-0684a000 r-xp 01838000 fe:00 53 ${EXE} (deleted)`, 99, 0, 0],
    [0, 'anonymous memory', '273cd600000-2740d600000 rw-p 00000000 00:00 0 ', 7568, 7568, 0],
  ])('should take %d range(s) from %s', (count, _name, head, rss, anon, swap) => {
    const smaps = [
      entry('7f4100000000-7f4200000000 rw-p 00000000 00:00 0', 5, 5),
      entry(head, rss, anon, swap),
    ]
    expect(findCleanFileRanges(smaps.join('\n') + '\n', EXE).length).toBe(count)
  })

  test('should give each range with its resident size', () => {
    const smaps = entry(`01a40000-0684a000 r-xp 01838000 fe:00 53 ${EXE}`, 31976, 0)
    expect(findCleanFileRanges(smaps, EXE)).toEqual([
      { start: 0x1a40000n, end: 0x684a000n, rssKb: 31976 },
    ])
  })

  test('should take nothing from a mapping whose smaps lines are missing', () => {
    const smaps = `01a40000-0684a000 r-xp 01838000 fe:00 53 ${EXE}\nRss: 100 kB\n`
    expect(findCleanFileRanges(smaps, EXE)).toEqual([])
  })
})

function readRssFileKb(): number {
  const status = readFileSync('/proc/self/status', 'utf8')
  return Number(/^RssFile:\s+(\d+) kB$/m.exec(status)?.[1])
}

describe.skipIf(process.platform !== 'linux')('releasing the code pages of this process', () => {
  test('should release resident pages of the executable', () => {
    const before = readRssFileKb()
    const outcome = releaseCodePages()
    const after = readRssFileKb()
    expect(outcome.releasedKb).toBeGreaterThan(0)
    expect(after).toBeLessThan(before)
  })
})
