/**
 * Rule evaluation speed and allocation.
 *
 *   bun bench/rules-eval.ts
 *
 * For 10, 100 and 500 rules, with the matching rule first, in the middle and
 * last: evaluations per second, and heap objects allocated per evaluation
 * after warm-up. Objects are counted with heapStats() from bun:jsc: the sum of
 * objectTypeCounts (which includes cells not yet collected) after
 * Bun.gc(true), before and after N evaluations, minus what one heapStats()
 * call costs. The target is 0 for rules that extract nothing.
 */
import { heapStats } from 'bun:jsc'
import { compileRuleSet } from '../src/rules/index.ts'
import type { RuleEntry, RuleRequest, RuleSet } from '../src/rules/index.ts'

const SIZES = [10, 100, 500]
const TIMED_MS = 300
const COUNTED_EVALS = 20_000

/** Four kinds of rule, so a scan meets exact hosts, globs, methods and header tests. */
function makeRule(i: number): string {
  switch (i % 4) {
    case 0:
      return `host("svc${i}.example.com") = block`
    case 1:
      return `host("*.zone${i}.example") && path("/api/*") = pass`
    case 2:
      return `path("/t${i}/*") && method(GET) = block`
    default:
      return `header("X-Tenant:t${i}") && !header(X-Debug) = pass`
  }
}

/** A request that rule `i` matches and no other rule does. */
function makeRequest(i: number): RuleRequest {
  const base = { method: 'GET', host: 'other.example.net', path: '/other', ip: '192.0.2.10' }
  const headers = ['Host', 'x', 'Accept', '*/*', 'User-Agent', 'bench']
  switch (i % 4) {
    case 0:
      return { ...base, host: `svc${i}.example.com`, headers }
    case 1:
      return { ...base, host: `a.zone${i}.example`, path: '/api/v1/items', headers }
    case 2:
      return { ...base, path: `/t${i}/x`, headers }
    default:
      return { ...base, headers: [...headers, 'X-Tenant', `t${i}`] }
  }
}

function makeRuleSet(count: number, last?: string): RuleSet {
  const rules: RuleEntry[] = Array.from({ length: count }, (_, i) => ({
    name: `r${i}`,
    rule: makeRule(i),
  }))
  if (last !== undefined) {
    rules[count - 1] = { name: `r${count - 1}`, rule: last }
  }
  return compileRuleSet({
    rules,
    headers: [{ rules: [`r${count - 1}`], add: [{ name: 'X-Seen', value: '1' }] }],
  })
}

let sink = 0

function run(set: RuleSet, req: RuleRequest, times: number, withKey: boolean): void {
  for (let i = 0; i < times; i++) {
    const d = set.evaluate(req)
    sink += withKey ? d.buildKey(req).length : d.terms.length
  }
}

function countObjects(): number {
  const counts = heapStats().objectTypeCounts as Record<string, number>
  let total = 0
  for (const type in counts) {
    total += counts[type]
  }
  return total
}

function objectsPerEval(set: RuleSet, req: RuleRequest, withKey: boolean): number {
  Bun.gc(true)
  const idle0 = countObjects()
  const idle1 = countObjects()
  const overhead = idle1 - idle0
  Bun.gc(true)
  const before = countObjects()
  run(set, req, COUNTED_EVALS, withKey)
  const after = countObjects()
  return Math.max(0, after - before - overhead) / COUNTED_EVALS
}

function evalsPerSecond(set: RuleSet, req: RuleRequest, withKey: boolean): number {
  let done = 0
  const start = Bun.nanoseconds()
  const deadline = start + TIMED_MS * 1e6
  while (Bun.nanoseconds() < deadline && done < 50_000_000) {
    run(set, req, 1000, withKey)
    done += 1000
  }
  return done / ((Bun.nanoseconds() - start) / 1e9)
}

interface Case {
  rules: number
  at: string
  what: string
  set: RuleSet
  req: RuleRequest
  withKey: boolean
}

function buildCases(): Case[] {
  const cases: Case[] = []
  for (const n of SIZES) {
    const set = makeRuleSet(n)
    for (const [at, i] of [
      ['first', 0],
      ['middle', n >> 1],
      ['last', n - 1],
    ] as const) {
      cases.push({ rules: n, at, what: 'block/pass', set, req: makeRequest(i), withKey: false })
    }
  }
  const req = { ...makeRequest(2), path: '/limited', headers: ['X-Api-Key', 'k1', 'Accept', '*/*'] }
  const extra: [string, string][] = [
    ['rate_limit, key ip', 'path(/limited) = rate_limit(10/s, ip)'],
    ['credit, key header', 'path(/limited) = credit(100/d, header(X-Api-Key))'],
    ['rate_limit, key header + ip', 'path(/limited) = rate_limit(10/s, header(X-Api-Key) + ip)'],
    ['pass + later mangle', 'path(/limited) = pass'],
  ]
  for (const [what, rule] of extra) {
    const set = what.includes('mangle') ? makeRuleSetWithMangle(100, rule) : makeRuleSet(100, rule)
    cases.push({ rules: 100, at: 'last', what, set, req, withKey: true })
  }
  return cases
}

/** `rule` second to last, then a mangle rule that also holds. */
function makeRuleSetWithMangle(count: number, rule: string): RuleSet {
  const rules: RuleEntry[] = Array.from({ length: count }, (_, i) => ({
    name: `r${i}`,
    rule: makeRule(i),
  }))
  rules[count - 2] = { name: `r${count - 2}`, rule }
  rules[count - 1] = { name: `r${count - 1}`, rule: 'header(X-Api-Key) = mangle' }
  return compileRuleSet({
    rules,
    headers: [{ rules: [`r${count - 1}`], add: [{ name: 'X-Seen', value: '1' }] }],
  })
}

function main(): void {
  const rows = [
    '| rules | match | action | evaluations/s | ns/evaluation | objects/evaluation |',
    '|---:|---|---|---:|---:|---:|',
  ]
  for (const c of buildCases()) {
    run(c.set, c.req, 20_000, c.withKey) // warm up the JIT and the decision cache
    const rate = evalsPerSecond(c.set, c.req, c.withKey)
    const objects = objectsPerEval(c.set, c.req, c.withKey)
    rows.push(
      `| ${c.rules} | ${c.at} | ${c.what} | ${Math.round(rate).toLocaleString('en-US')} | ${(1e9 / rate).toFixed(0)} | ${objects.toFixed(3)} |`,
    )
  }
  process.stdout.write(
    `Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores\n\n${rows.join('\n')}\n`,
  )
  if (sink === -1) {
    process.stdout.write('unreachable\n')
  }
}

main()
