/**
 * Test CAs made with the openssl command line, so roxy's loader is exercised on files it
 * did not write itself. Generated once per test file into a temp directory.
 */
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from './helpers.ts'

export interface CaFiles {
  cert: string
  key: string
}

const CA_EXTENSIONS = [
  '-addext',
  'basicConstraints=critical,CA:TRUE',
  '-addext',
  'keyUsage=critical,keyCertSign,cRLSign',
]

/** A self-signed CA with the given `-newkey` argument, e.g. `rsa:2048` or `ec -pkeyopt ...`. */
export async function makeOpensslCa(
  dir: string,
  name: string,
  newKey: string[],
  extensions = CA_EXTENSIONS,
): Promise<CaFiles> {
  const cert = join(dir, `${name}.crt`)
  const key = join(dir, `${name}.key`)
  const res = await run([
    'openssl',
    'req',
    '-x509',
    '-nodes',
    '-newkey',
    ...newKey,
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '30',
    '-subj',
    `/O=roxy tests/CN=${name}`,
    ...extensions,
  ])
  if (res.code !== 0) {
    throw new Error(`openssl failed for ${name}: ${res.stderr}`)
  }
  chmodSync(key, 0o600)
  return { cert, key }
}

export async function makeRsaCa(dir: string): Promise<CaFiles> {
  return makeOpensslCa(dir, 'rsa-ca', ['rsa:2048'])
}

export async function makeP384Ca(dir: string): Promise<CaFiles> {
  return makeOpensslCa(dir, 'p384-ca', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-384'])
}

export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
