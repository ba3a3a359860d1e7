/**
 * Leaf minting cost and cache memory.
 *
 *   bun bench/tls-issue.ts            # prints a markdown table
 *
 * 1. ms per new host: 40 new names minted, per CA key type (EC P-256 ephemeral, RSA-2048
 *    from openssl), synchronously (`LeafIssuer.issue`), off-thread (`issueAsync`) and
 *    through `CertCache.issue` (what the proxy awaits), after 5 warm-up mints.
 * 2. bytes per cached certificate: heap and RSS growth while 1000 hosts enter a CertCache.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CertCache } from '../src/tls/cert-cache.ts'
import { createEphemeralCa, loadCa } from '../src/tls/certificate-authority.ts'
import type { CertificateAuthority } from '../src/tls/certificate-authority.ts'
import { LeafIssuer } from '../src/tls/leaf-issuer.ts'

const NEW_HOSTS = 40
const CACHED_HOSTS = 1000
const dir = mkdtempSync(join(tmpdir(), 'roxy-bench-tls-'))

function makeRsaCa(): CertificateAuthority {
  const cert = join(dir, 'rsa.crt')
  const key = join(dir, 'rsa.key')
  const res = Bun.spawnSync([
    'openssl',
    'req',
    '-x509',
    '-nodes',
    '-newkey',
    'rsa:2048',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '30',
    '-subj',
    '/CN=bench RSA CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
  ])
  if (res.exitCode !== 0) {
    throw new Error(res.stderr.toString())
  }
  return loadCa(cert, key).ca
}

let serial = 0
function newHosts(count: number): string[] {
  return Array.from({ length: count }, () => `host-${serial++}.bench.test`)
}

async function timePerHost(mint: (host: string) => unknown): Promise<number> {
  for (const host of newHosts(5)) {
    await mint(host)
  }
  const hosts = newHosts(NEW_HOSTS)
  const start = performance.now()
  for (const host of hosts) {
    await mint(host)
  }
  return (performance.now() - start) / NEW_HOSTS
}

function measureCacheMemory(ca: CertificateAuthority): Promise<{ heap: number; rss: number }> {
  const cache = new CertCache(new LeafIssuer(ca), { capacity: CACHED_HOSTS })
  Bun.gc(true)
  const before = process.memoryUsage()
  return Promise.all(newHosts(CACHED_HOSTS).map((host) => cache.issue(host))).then(() => {
    Bun.gc(true)
    const after = process.memoryUsage()
    if (cache.size !== CACHED_HOSTS) {
      throw new Error(`cache holds ${cache.size}`)
    }
    return {
      heap: (after.heapUsed - before.heapUsed) / CACHED_HOSTS,
      rss: (after.rss - before.rss) / CACHED_HOSTS,
    }
  })
}

const cas: Array<[string, CertificateAuthority]> = [
  ['EC P-256 (ephemeral)', createEphemeralCa({ dir })],
  ['RSA-2048', makeRsaCa()],
]

console.log(`Bun ${Bun.version}, ${NEW_HOSTS} new hosts per row (ms per host)\n`)
console.log('| CA key | issue (sync) | issueAsync | CertCache.issue |')
console.log('|---|---|---|---|')
for (const [name, ca] of cas) {
  const issuer = new LeafIssuer(ca)
  const cache = new CertCache(issuer, { capacity: 1000 })
  const sync = await timePerHost((host) => issuer.issue(host))
  const async = await timePerHost((host) => issuer.issueAsync(host))
  const cached = await timePerHost((host) => cache.issue(host))
  console.log(`| ${name} | ${sync.toFixed(3)} | ${async.toFixed(3)} | ${cached.toFixed(3)} |`)
}

const memory = await measureCacheMemory(cas[0][1])
console.log(
  `\nPer cached certificate (${CACHED_HOSTS} entries, EC CA): heap ${Math.round(memory.heap)} B, RSS ${Math.round(memory.rss)} B`,
)
rmSync(dir, { recursive: true, force: true })
