/**
 * Test certificates made with the openssl command line, once per call, in a
 * temp folder: a CA and a server certificate it signs for localhost,
 * 127.0.0.1 and ::1.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './roxy.ts'

export interface TestPki {
  dir: string
  caCertPath: string
  caKeyPath: string
  caCert: string
  serverCert: string
  serverKey: string
}

function openssl(args: string[], cwd: string): void {
  const res = Bun.spawnSync(['openssl', ...args], { cwd, stderr: 'pipe' })
  if (res.exitCode !== 0) {
    throw new Error(`openssl ${args.join(' ')} failed: ${res.stderr.toString()}`)
  }
}

export function makeTestPki(cn = 'roxy test origin CA'): TestPki {
  const dir = tempDir('roxy-pki-')
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir)
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      `/CN=${cn}`,
      '-days',
      '30',
      '-out',
      'ca.crt',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  )
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key'], dir)
  openssl(
    ['req', '-new', '-key', 'server.key', '-subj', '/CN=localhost', '-out', 'server.csr'],
    dir,
  )
  writeFileSync(
    join(dir, 'ext.cnf'),
    'subjectAltName=DNS:localhost,DNS:origin.test,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n',
  )
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '30',
      '-extfile',
      'ext.cnf',
      '-out',
      'server.crt',
    ],
    dir,
  )
  const read = (name: string) => readFileSync(join(dir, name), 'utf8')
  return {
    dir,
    caCertPath: join(dir, 'ca.crt'),
    caKeyPath: join(dir, 'ca.key'),
    caCert: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
  }
}

/** An HTTPS upstream on 127.0.0.1:0 with a certificate from `pki`. */
export function httpsUpstream(pki: TestPki, fetch: (req: Request) => Response | Promise<Response>) {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    tls: { cert: pki.serverCert, key: pki.serverKey },
    fetch,
  })
  return {
    server,
    port: server.port as number,
    stop: () => server.stop(true),
    [Symbol.dispose]() {
      server.stop(true)
    },
  }
}
