/**
 * Unmaps the executable's clean pages when the proxy goes quiet
 * (docs/memory.md, "Idle release of code pages").
 *
 * Most of roxy's RSS is not its own data but pages of the executable file:
 * the runtime's machine code and read-only data, mapped as they run. The
 * kernel maps them 64 KB at a time (by default) around each page touched and
 * keeps them mapped, so start-up and a load burst leave ~41 MB of
 * `RssFile`, of which an idle proxy touches again about 20. Nothing in Bun
 * 1.4.5 unmaps them (`Bun.gc` only collects the heaps), so this module asks
 * the kernel, through `bun:ffi` and libc's `madvise(MADV_DONTNEED)`, to drop
 * them from roxy's page tables. The pages stay in the page cache: the next
 * touch maps them back with a minor fault (no disk read), and the kernel
 * reclaims the unmapped ones like any other clean cache when memory runs
 * short.
 *
 * Safety: a private file mapping holds either the file's bytes or, where it
 * was written, private anonymous copies; dropping those would lose data. So
 * only mappings of the executable that are private, not writable, and whose
 * smaps entry counts no anonymous and no swapped page are released: they hold
 * exactly the file's bytes, and the kernel reads them back unchanged. Nothing
 * in roxy or Bun writes to such a mapping later.
 *
 * Measured (bench/memory.sh, median of 3 runs, x86-64 Linux): RSS 30 s after
 * load 55.6 → 37.6 MB, idle 46.5 → 26.9 MB. One release takes 3 to 4 ms;
 * the first request after it maps pages back with ~60 more minor faults and
 * takes as long as without (1.5 ms through curl).
 */
import { readFileSync } from 'node:fs'
import { dlopen, FFIType } from 'bun:ffi'
import { describeError, log } from '../observe/log.ts'

/** `MADV_DONTNEED` from <sys/mman.h> on Linux. */
const MADV_DONTNEED = 4

/** A range of the address space, as in the first column of /proc/PID/smaps. */
export interface MemoryRange {
  start: bigint
  end: bigint
  /** Resident KB when smaps was read. */
  rssKb: number
}

export interface ReleaseOutcome {
  /** KB that were resident in the released ranges. */
  releasedKb: number
  ms: number
}

type Madvise = (start: bigint, length: bigint, advice: number) => number

/** undefined: not looked up yet; null: not available (logged once). */
let madvise: Madvise | null | undefined

/**
 * Unmap the clean pages of the executable (`process.execPath`). Never
 * throws: where libc or /proc/self/smaps cannot be reached (not Linux, no
 * /proc), that is logged once at debug level and later calls do nothing.
 */
export function releaseCodePages(): ReleaseOutcome {
  const t0 = performance.now()
  const advise = loadMadvise()
  let releasedKb = 0
  if (advise) {
    try {
      releasedKb = adviseCleanRanges(advise)
    } catch (err) {
      disableRelease(err)
    }
  }
  return { releasedKb, ms: performance.now() - t0 }
}

function adviseCleanRanges(advise: Madvise): number {
  let released = 0
  const smaps = readFileSync('/proc/self/smaps', 'utf8')
  for (const range of findCleanFileRanges(smaps, process.execPath)) {
    if (advise(range.start, range.end - range.start, MADV_DONTNEED) === 0) {
      released += range.rssKb
    }
  }
  return released
}

function loadMadvise(): Madvise | null {
  if (madvise !== undefined) {
    return madvise
  }
  madvise = null
  if (process.platform !== 'linux') {
    return null
  }
  try {
    // libc is loaded already (the executable links it), so dlopen finds it by
    // name without searching the file system, even in a FROM-scratch image.
    const libc = dlopen('libc.so.6', {
      madvise: { args: [FFIType.u64, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    })
    madvise = libc.symbols.madvise as Madvise
  } catch (err) {
    disableRelease(err)
  }
  return madvise
}

function disableRelease(err: unknown): void {
  madvise = null
  log.debug('runtime', 'code pages stay mapped', { error: describeError(err) })
}

const MAPPING_LINE = /^([0-9a-f]+)-([0-9a-f]+) ([-r][-w][-x][ps]) \S+ \S+ \d+ *(.*)$/
const FIELD_LINE = /^(\w+): +(\d+) kB$/

interface Mapping {
  range: MemoryRange
  perms: string
  path: string
  anonymousKb: number
  swapKb: number
}

/**
 * The mappings of `path` in a /proc/PID/smaps text whose pages are all the
 * file's own bytes: private, not writable, no anonymous or swapped page, and
 * something resident to release.
 */
export function findCleanFileRanges(smaps: string, path: string): MemoryRange[] {
  return parseSmaps(smaps)
    .filter(
      (m) =>
        m.path === path &&
        m.perms[1] === '-' &&
        m.perms[3] === 'p' &&
        m.anonymousKb === 0 &&
        m.swapKb === 0 &&
        m.range.rssKb > 0,
    )
    .map((m) => m.range)
}

function parseSmaps(smaps: string): Mapping[] {
  const mappings: Mapping[] = []
  let current: Mapping | undefined
  for (const line of smaps.split('\n')) {
    const head = MAPPING_LINE.exec(line)
    if (head) {
      current = {
        range: { start: BigInt(`0x${head[1]}`), end: BigInt(`0x${head[2]}`), rssKb: 0 },
        perms: head[3] ?? '',
        path: head[4] ?? '',
        // Unknown until read: a mapping without these lines is never released.
        anonymousKb: -1,
        swapKb: -1,
      }
      mappings.push(current)
      continue
    }
    const field = FIELD_LINE.exec(line)
    if (current && field) {
      readField(current, field[1] ?? '', Number(field[2]))
    }
  }
  return mappings
}

function readField(mapping: Mapping, name: string, kb: number): void {
  switch (name) {
    case 'Rss':
      mapping.range.rssKb = kb
      break
    case 'Anonymous':
      mapping.anonymousKb = kb
      break
    case 'Swap':
      mapping.swapKb = kb
      break
  }
}
