/**
 * http-mitm-proxy on a loopback port, for bench/tls-run.ts (run under Node).
 *
 *   node bench/tls-http-mitm-proxy.mjs DEPS_DIR CA_DIR ORIGIN_CA_PEM PORT_FILE
 *
 * DEPS_DIR holds node_modules/http-mitm-proxy (bench/tls-run.sh installs it into
 * bench/.deps). Keep-alive on both sides; the origin is reached through one keep-alive
 * https.Agent that trusts ORIGIN_CA_PEM and looks up `*.test` as 127.0.0.1 (any other
 * name fails, so nothing but loopback is contacted; the same for plain HTTP). Writes its port to PORT_FILE.
 */
import { createRequire } from 'node:module'
import { readFileSync, writeFileSync } from 'node:fs'
import { Agent as HttpAgent } from 'node:http'
import { Agent } from 'node:https'
import { join } from 'node:path'

const [depsDir, caDir, originCaPath, portFile] = process.argv.slice(2)
const require = createRequire(join(depsDir, 'package.json'))
const { Proxy } = require('http-mitm-proxy')

/** dns.lookup's signature, answering 127.0.0.1 for `*.test` and refusing everything else. */
function lookupTestNames(host, options, callback) {
  if (!host.endsWith('.test')) {
    callback(new Error(`bench: refusing to resolve ${host}`))
    return
  }
  if (options.all) {
    callback(null, [{ address: '127.0.0.1', family: 4 }])
  } else {
    callback(null, '127.0.0.1', 4)
  }
}

const httpsAgent = new Agent({
  keepAlive: true,
  ca: readFileSync(originCaPath, 'utf8'),
  lookup: lookupTestNames,
})
const httpAgent = new HttpAgent({ keepAlive: true, lookup: lookupTestNames })
const proxy = new Proxy()
proxy.onError((_ctx, err, kind) => {
  process.stderr.write(`http-mitm-proxy ${kind}: ${err?.message}\n`)
})
proxy.listen(
  { host: '127.0.0.1', port: 0, keepAlive: true, sslCaDir: caDir, httpAgent, httpsAgent },
  (err) => {
    if (err) {
      process.stderr.write(`listen failed: ${err.message}\n`)
      process.exit(1)
    }
    writeFileSync(portFile, `${proxy.httpPort}\n`)
  },
)
