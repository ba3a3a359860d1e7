/**
 * Limits engine benchmark: `bun bench/limits-check.ts [--quick]`
 *
 * For 1, 10 000 and 1 000 000 distinct keys, per scenario:
 *   - checks per second (known keys, after one warm-up pass that creates them);
 *   - GC-heap bytes allocated per check for known keys. JSC updates its object
 *     count only when it collects, so a count taken around a loop cannot see
 *     short-lived garbage. Instead a child runs with collection deferred
 *     (BUN_JSC_smallHeapSize / largeHeapSize raised), so every allocation
 *     must take fresh heap blocks, and `heapCapacity` grows by the bytes
 *     allocated. A control loop making one `{ i }` per iteration shows what
 *     one object per check looks like (~32 bytes);
 *   - live objects per check: `heapStats().objectCount` after `Bun.gc(true)`
 *     before and after the checks (anything the engine keeps);
 *   - bytes of memory per key: RSS and JSC heap (+ external buffers) growth
 *     while the keys' counters are created, divided by the keys.
 *
 * Each case runs in a fresh child process so one case's heap does not skew
 * the next. Prints a Markdown table (docs/limits.md quotes it).
 */
import { heapStats } from 'bun:jsc'
import { LimitsEngine } from '../src/limits/limits-engine.ts'
import type { LimitRequest } from '../src/limits/limit-request.ts'

type Scenario = 'rate' | 'rate+ip' | 'credit' | 'composite' | 'rejected'

interface CaseResult {
  scenario: Scenario
  keys: number
  /** Share of the measured checks that were forwarded (the rest answered 429). */
  forwardedShare: number
  checksPerSec: number
  liveObjectsPerCheck: number
  rssBytesPerKey: number
  heapBytesPerKey: number
}

interface AllocResult {
  bytesPerCheck: number
  controlBytesPerIteration: number
}

const SCENARIOS: Scenario[] = ['rate', 'rate+ip', 'credit', 'composite', 'rejected']
const DEFER_GC_ENV = {
  BUN_JSC_smallHeapSize: String(4_000_000_000),
  BUN_JSC_largeHeapSize: String(4_000_000_000),
}
/** Simulated time between two requests of the same key when there are many keys. */
const PER_KEY_GAP_MS = 50_000
/** Timed runs per case; the fastest counts (the machine is shared). */
const TIMED_ROUNDS = 3
const T0 = Date.parse('2026-06-10T00:00:00.000Z')

/**
 * Many keys (steady state): each key calls once per 50 s of simulated time,
 * under `rate_limit(100/m)` with a throttle at 50 and `credit(2000/d)` with a
 * soft limit at 1000, so the forward path (headers, delays, daily resets) runs.
 * One key (hot): a request per simulated millisecond, under
 * `rate_limit(1500/s)` and `credit(1000000000/d)`; `rejected` hammers one key
 * over `rate_limit(1/m)`.
 */
function buildRequest(scenario: Scenario, hot: boolean): LimitRequest {
  const rateLimit = hot
    ? { limit: 1500, windowSecs: 1, softLimit: 1000, maxDelayMs: 1000 }
    : { limit: 100, windowSecs: 60, softLimit: 50, maxDelayMs: 1000 }
  const credit = {
    limit: hot ? 1_000_000_000 : 2000,
    period: 'd' as const,
    resetSchedule: 'daily@00:00',
    softLimit: hot ? undefined : 1000,
    maxDelayMs: 1000,
  }
  const req: LimitRequest = { rule: 'bench', key: '', ip: '10.0.0.1', headerKeyed: false }
  switch (scenario) {
    case 'rate':
      return { ...req, rateLimit }
    case 'rate+ip':
      return { ...req, headerKeyed: true, rateLimit }
    case 'credit':
      return { ...req, credit }
    case 'composite':
      return { ...req, headerKeyed: true, rateLimit, credit }
    case 'rejected':
      return { ...req, rateLimit: { limit: 1, windowSecs: 60, maxDelayMs: 0 } }
  }
}

/** A simulated clock: each check moves it on by `stepMs`. */
interface BenchClock {
  t: number
  stepMs: number
}

function makeClock(keyCount: number): BenchClock {
  return { t: T0, stepMs: keyCount === 1 ? 1 : PER_KEY_GAP_MS / keyCount }
}

function makeKeys(n: number, prefix: string): string[] {
  const keys = new Array<string>(n)
  for (let i = 0; i < n; i++) {
    keys[i] = `${prefix}${i}`
  }
  return keys
}

/** One engine with its clock, request and the key and client-IP populations. */
interface Fixture {
  engine: LimitsEngine
  clock: BenchClock
  req: LimitRequest
  keys: string[]
  ips: string[]
}

/**
 * Keys are made before any measurement, so the memory figures count only
 * the engine. Client IPs: one per key up to 65 536, at least 256, so the
 * per-IP baseline does not turn the steady state into a wall of 429s.
 */
function setUp(scenario: Scenario, keyCount: number, prefix = 'customer-'): Fixture {
  const clock = makeClock(keyCount)
  return {
    engine: new LimitsEngine({ now: () => clock.t }),
    clock,
    req: buildRequest(scenario, keyCount === 1),
    keys: makeKeys(keyCount, prefix),
    ips: makeKeys(Math.min(Math.max(keyCount, 256), 65_536), '10.1.'),
  }
}

/** Run `count` checks cycling through keys and IPs; returns how many were forwarded. */
function runChecks(f: Fixture, count: number): number {
  let forwarded = 0
  for (let i = 0; i < count; i++) {
    f.clock.t += f.clock.stepMs
    f.req.key = f.keys[i % f.keys.length]
    f.req.ip = f.ips[i % f.ips.length]
    if (f.engine.check(f.req).action === 'forward') {
      forwarded++
    }
  }
  return forwarded
}

/** Compile the engine's code first, so JIT memory is not charged to the keys. */
function warmUpJit(scenario: Scenario): void {
  runChecks(setUp(scenario, 1000, 'warm-'), 200_000)
}

/** One pass over every key (at least 100 000 checks): creates the counters. */
function createCounters(f: Fixture): void {
  runChecks(f, Math.max(f.keys.length, 100_000))
}

function heapBytes(): number {
  const stats = heapStats()
  return stats.heapSize + stats.extraMemorySize
}

function measureCase(scenario: Scenario, keyCount: number, checks: number): CaseResult {
  const f = setUp(scenario, keyCount)
  warmUpJit(scenario)
  Bun.gc(true)
  const rssBefore = process.memoryUsage().rss
  const heapBefore = heapBytes()
  createCounters(f)
  Bun.gc(true)
  const rssPerKey = (process.memoryUsage().rss - rssBefore) / keyCount
  const heapPerKey = (heapBytes() - heapBefore) / keyCount

  const objectsBefore = heapStats().objectCount
  let bestNs = Infinity
  let forwarded = 0
  for (let round = 0; round < TIMED_ROUNDS; round++) {
    const started = Bun.nanoseconds()
    forwarded = runChecks(f, checks)
    bestNs = Math.min(bestNs, Bun.nanoseconds() - started)
  }
  Bun.gc(true)
  return {
    scenario,
    keys: keyCount,
    forwardedShare: forwarded / checks,
    checksPerSec: Math.round(checks / (bestNs / 1e9)),
    liveObjectsPerCheck: (heapStats().objectCount - objectsBefore) / (checks * TIMED_ROUNDS),
    rssBytesPerKey: Math.round(rssPerKey),
    heapBytesPerKey: Math.round(heapPerKey),
  }
}

/** Runs with GC deferred: heap capacity growth ≈ bytes allocated. */
function measureAllocation(scenario: Scenario, keyCount: number, checks: number): AllocResult {
  const f = setUp(scenario, keyCount)
  createCounters(f)
  Bun.gc(true)
  const before = heapStats().heapCapacity
  runChecks(f, checks)
  const bytesPerCheck = (heapStats().heapCapacity - before) / checks

  const sink: unknown[] = [null]
  Bun.gc(true)
  const controlBefore = heapStats().heapCapacity
  for (let i = 0; i < checks; i++) {
    sink[0] = { i }
  }
  const controlBytesPerIteration = (heapStats().heapCapacity - controlBefore) / checks
  return { bytesPerCheck, controlBytesPerIteration }
}

function runChild(args: string[], env: Record<string, string> = {}): unknown {
  const child = Bun.spawnSync([process.execPath, import.meta.path, ...args], {
    env: { ...process.env, ...env },
    stderr: 'inherit',
  })
  if (child.exitCode !== 0) {
    throw new Error(`bench child ${args.join(' ')} exited ${child.exitCode}`)
  }
  return JSON.parse(child.stdout.toString())
}

function formatRate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`
}

function printTable(rows: Array<CaseResult & AllocResult>): void {
  const out = [
    '| scenario | keys | forwarded | checks/s | GC-heap bytes allocated/check | live objects/check after GC | RSS bytes/key | heap bytes/key |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const r of rows) {
    const perKey = r.keys >= 10_000
    out.push(
      `| ${r.scenario} | ${r.keys.toLocaleString('en')} | ${(r.forwardedShare * 100).toFixed(0)} % | ` +
        `${formatRate(r.checksPerSec)} | ` +
        `${r.bytesPerCheck.toFixed(3)} | ${r.liveObjectsPerCheck.toFixed(6)} | ` +
        `${perKey ? r.rssBytesPerKey : '–'} | ${perKey ? r.heapBytesPerKey : '–'} |`,
    )
  }
  const control = rows[0]?.controlBytesPerIteration ?? 0
  out.push(
    '',
    `Control: a loop making one \`{ i }\` per iteration allocates ${control.toFixed(1)} bytes/iteration by the same measure.`,
  )
  process.stdout.write(out.join('\n') + '\n')
}

function main(argv: string[]): void {
  const [mode, scenario, keysText, checksText] = argv
  if (mode === '--case' || mode === '--alloc') {
    const measure = mode === '--case' ? measureCase : measureAllocation
    const result = measure(scenario as Scenario, Number(keysText), Number(checksText))
    process.stdout.write(JSON.stringify(result))
    return
  }
  const quick = mode === '--quick'
  const checks = quick ? 300_000 : 2_000_000
  const sizes = quick ? [1, 10_000] : [1, 10_000, 1_000_000]
  const rows: Array<CaseResult & AllocResult> = []
  for (const s of SCENARIOS) {
    for (const keys of s === 'rejected' ? [1] : sizes) {
      const args = [s, String(keys), String(checks)]
      const result = runChild(['--case', ...args]) as CaseResult
      const alloc = runChild(['--alloc', ...args], DEFER_GC_ENV) as AllocResult
      rows.push({ ...result, ...alloc })
    }
  }
  printTable(rows)
}

main(process.argv.slice(2))
