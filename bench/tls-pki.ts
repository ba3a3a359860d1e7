/**
 * The origin's test PKI for bench/tls-run.ts, made with openssl: an EC P-256 CA and one
 * leaf per host name (one shared EC key), each naming only its host (CN and DNS SAN).
 *
 * One certificate per host, not one covering every name: mitmproxy copies the origin's
 * names into the certificate it forges, so a single origin certificate listing all names
 * would let it forge once and reuse that leaf for every "new" host.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

/** The files a test PKI consists of. */
export interface TestPki {
  /** The origin CA certificate (PEM): what the proxies trust for the origin. */
  caPath: string
  /** The key every leaf shares (PEM). */
  keyPath: string
  /** Host name → its leaf certificate (PEM path). */
  certPaths: Map<string, string>
}

/** Writes a CA and one leaf per host into `dir` (about 10 ms per host). */
export function makeTestPki(dir: string, hosts: string[]): TestPki {
  mkdirSync(dir, { recursive: true })
  const caPath = join(dir, 'origin-ca.pem')
  const caKey = join(dir, 'origin-ca.key')
  const keyPath = join(dir, 'leaf.key')
  runOpenssl([
    'req',
    '-x509',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-keyout',
    caKey,
    '-out',
    caPath,
    '-days',
    '2',
    '-subj',
    '/CN=roxy bench origin CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ])
  runOpenssl([
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    keyPath,
  ])
  const certPaths = new Map<string, string>()
  for (const host of hosts) {
    const certPath = join(dir, `${host}.pem`)
    runOpenssl([
      'req',
      '-x509',
      '-new',
      '-key',
      keyPath,
      '-CA',
      caPath,
      '-CAkey',
      caKey,
      '-days',
      '2',
      '-subj',
      `/CN=${host}`,
      '-addext',
      `subjectAltName=DNS:${host}`,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'extendedKeyUsage=serverAuth',
      '-out',
      certPath,
    ])
    certPaths.set(host, certPath)
  }
  return { caPath, keyPath, certPaths }
}

function runOpenssl(args: string[]): void {
  const result = Bun.spawnSync(['openssl', ...args], { stdout: 'ignore', stderr: 'pipe' })
  if (result.exitCode !== 0) {
    throw new Error(`openssl ${args[0]} failed: ${result.stderr.toString()}`)
  }
}
