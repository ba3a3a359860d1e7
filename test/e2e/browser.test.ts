/**
 * A real browser through roxy (issue 3): headless Chromium, pointed at roxy
 * with `--proxy-server`, loads an HTTPS page from a loopback origin, runs the
 * page's script (a second request through the same interception) and prints
 * the rendered DOM, which we check.
 *
 * Trust: every leaf roxy issues carries the same key, so Chromium is told to
 * accept that one key (`--ignore-certificate-errors-spki-list`) instead of
 * importing the CA into an NSS database. The first test checks that premise.
 *
 * Nothing leaves loopback: Chromium resolves no name itself
 * (`--host-resolver-rules`), it sends every request to roxy, and roxy blocks
 * every host but origin.test and pins every name to 127.0.0.1. Chromium's own
 * background requests (update checks, account lists) therefore end as 403s
 * in roxy's log, which the render test asserts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash, randomUUID, X509Certificate } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { httpsUpstream, makeTestPki } from '../support/certs.ts'
import { curl } from '../support/net.ts'
import { type RoxyProcess, startRoxy, tempDir } from '../support/roxy.ts'

/**
 * Prefer the binary behind Debian's `/usr/bin/chromium` launcher: the
 * launcher sources /etc/chromium.d, which turns remote extensions on.
 */
const CHROMIUM = existsSync('/usr/lib/chromium/chromium')
  ? '/usr/lib/chromium/chromium'
  : (Bun.which('chromium') ?? Bun.which('chromium-browser'))
const SKIP_NOTE = CHROMIUM ? '' : ' (skipped: chromium is not installed; `make system-deps`)'
const CHROMIUM_TIMEOUT_MS = 15_000

const TOKEN = randomUUID().slice(0, 8)
const PAGE = `<!doctype html>
<title>roxy browser test</title>
<h1 id=msg>hello through roxy</h1>
<p id=out>waiting</p>
<script>
  fetch('/data')
    .then((res) => res.text())
    .then((text) => { document.getElementById('out').textContent = 'script saw ' + text })
</script>
`

let roxy: RoxyProcess
let origin: ReturnType<typeof httpsUpstream>
let caPem: string
const originPaths: string[] = []

beforeAll(async () => {
  if (!CHROMIUM) {
    return
  }
  const pki = makeTestPki('browser origin CA')
  origin = httpsUpstream(pki, (req) => {
    const path = new URL(req.url).pathname
    originPaths.push(path)
    if (path === '/data') {
      return new Response(`data ${TOKEN}`, { headers: { 'content-type': 'text/plain' } })
    }
    return new Response(PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } })
  })
  roxy = await startRoxy(
    `
listen: "127.0.0.1:0"
upstream_ca: ${pki.caCertPath}
resolve:
  "*": 127.0.0.1
state: { path: ":memory:" }
rules:
  - name: only-origin
    rule: '!host("origin.test") = block'
`,
    { env: { ROXY_LOG: 'info' } },
  )
  caPem = (await curl([`${roxy.url}/ca.pem`])).stdout
})
afterAll(async () => {
  await roxy?.stop('SIGKILL')
  origin?.stop()
})

/** The leaf roxy presents for `host`, fetched through roxy with openssl s_client. */
async function fetchLeaf(host: string): Promise<X509Certificate> {
  const proc = Bun.spawn(
    [
      'openssl',
      's_client',
      '-proxy',
      `127.0.0.1:${roxy.port}`,
      '-connect',
      `${host}:${origin.port}`,
      '-servername',
      host,
    ],
    { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
  )
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
  const out = await new Response(proc.stdout).text()
  clearTimeout(timer)
  await proc.exited
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)
  if (!pem) {
    throw new Error(`no certificate from s_client for ${host}: ${out.slice(0, 500)}`)
  }
  return new X509Certificate(pem[0])
}

/** Base64 SHA-256 of the SubjectPublicKeyInfo, the form Chromium's SPKI list takes. */
function hashSpki(cert: X509Certificate): string {
  const der = cert.publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(der).digest('base64')
}

/**
 * Run headless Chromium through roxy on a fresh profile and return the DOM it
 * dumps. Killed after CHROMIUM_TIMEOUT_MS; the profile is removed afterwards.
 */
async function dumpDom(url: string, extraArgs: string[]) {
  const profile = tempDir('roxy-chromium-')
  const proc = Bun.spawn(
    [
      CHROMIUM as string,
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--disable-extensions',
      '--disable-breakpad',
      '--disable-dev-shm-usage',
      '--bwsi',
      '--disable-features=NetworkTimeServiceQuerying',
      `--user-data-dir=${profile}`,
      `--proxy-server=http://127.0.0.1:${roxy.port}`,
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      '--virtual-time-budget=5000',
      ...extraArgs,
      '--dump-dom',
      url,
    ],
    {
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      env: { PATH: '/usr/bin:/bin', HOME: profile },
    },
  )
  const timer = setTimeout(() => proc.kill('SIGKILL'), CHROMIUM_TIMEOUT_MS)
  try {
    const [dom, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ])
    return { dom, stderr, code }
  } finally {
    clearTimeout(timer)
    proc.kill('SIGKILL')
    rmSync(profile, { recursive: true, force: true })
  }
}

const pageUrl = () => `https://origin.test:${origin.port}/`

describe(`given headless Chromium using roxy as its proxy${SKIP_NOTE}`, () => {
  test.skipIf(!CHROMIUM)('should issue every leaf on one key, signed by its CA', async () => {
    const [leaf, other] = [await fetchLeaf('origin.test'), await fetchLeaf('other.test')]
    expect(leaf.subjectAltName).toContain('DNS:origin.test')
    expect(other.subjectAltName).toContain('DNS:other.test')
    expect(leaf.checkIssued(new X509Certificate(caPem))).toBe(true)
    expect(hashSpki(other)).toBe(hashSpki(leaf))
  })

  test.skipIf(!CHROMIUM)(
    'should render an HTTPS page whose script fetched a second resource through roxy',
    async () => {
      const spki = hashSpki(await fetchLeaf('origin.test'))
      const res = await dumpDom(pageUrl(), [`--ignore-certificate-errors-spki-list=${spki}`])

      expect(res.code).toBe(0)
      expect(res.dom).toContain('<h1 id="msg">hello through roxy</h1>')
      expect(res.dom).toContain(`<p id="out">script saw data ${TOKEN}</p>`)
      expect(originPaths).toEqual(expect.arrayContaining(['/', '/data']))

      const page = await roxy.waitForLog((l) => l.host === 'origin.test' && l.path === '/')
      const data = await roxy.waitForLog((l) => l.host === 'origin.test' && l.path === '/data')
      expect([page.action, page.status, data.action, data.status]).toEqual([
        'forward',
        200,
        'forward',
        200,
      ])
      const elsewhere = roxy.logs.filter((l) => l.msg === 'request' && l.host !== 'origin.test')
      expect(elsewhere.filter((l) => l.action !== 'block')).toEqual([])
    },
    CHROMIUM_TIMEOUT_MS + 5_000,
  )

  test.skipIf(!CHROMIUM)(
    "should show nothing when Chromium does not trust roxy's key",
    async () => {
      const before = originPaths.length
      const res = await dumpDom(pageUrl(), [])

      expect(res.dom).not.toContain('hello through roxy')
      expect(res.stderr).toContain('ERR_CERT_AUTHORITY_INVALID')
      expect(originPaths.length).toBe(before)
    },
    CHROMIUM_TIMEOUT_MS + 5_000,
  )
})
