/**
 * Microbenchmark of roxy's per-request codec work, no sockets: the exported
 * pieces a forwarded GET goes through (request head, target, framing,
 * response head, the request log line), on the bench's own traffic (wrk's
 * request, nginx's response). Caches stay hot here, so this is a lower
 * bound of what the same code costs inside the proxy.
 *
 *   bun bench/codec-micro.ts [iterations]
 */
import { readFraming } from '../src/proxy/http1/framing.ts'
import { parseRequestHead } from '../src/proxy/http1/head.ts'
import { ResponseScan, copyResponseHead } from '../src/proxy/http1/response-scan.ts'
import { parseAbsoluteTarget } from '../src/proxy/target.ts'
import { log } from '../src/observe/log.ts'

const REQUEST = Buffer.from(
  'GET http://127.0.0.1:8081/ HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n',
  'latin1',
)
const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Fri, 04 Dec 2026 15:00:00 GMT\r\n' +
    'Content-Type: application/octet-stream\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok',
  'latin1',
)

type Step = { name: string; run: () => unknown }

const SCAN = new ResponseScan()

let sunk = 0
log.configure('info')
log.setSink({ write: (text) => (sunk += text.length) })

const STEPS: Step[] = [
  { name: 'parseRequestHead', run: () => parseRequestHead(REQUEST) },
  {
    name: 'readFraming (request)',
    run: () => readFraming(parseRequestHead(REQUEST)!.headers, true),
  },
  { name: 'parseAbsoluteTarget', run: () => parseAbsoluteTarget('http://127.0.0.1:8081/') },
  { name: 'ResponseScan.scan', run: () => SCAN.scan(RESPONSE) },
  {
    name: 'scan + copyResponseHead',
    run: () => SCAN.scan(RESPONSE) && copyResponseHead(SCAN, false, '', undefined),
  },
  {
    name: 'Buffer.from(head string)',
    run: () => Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n', 'latin1'),
  },
  {
    name: 'log line (request, info)',
    run: () =>
      log.info('proxy', 'request', {
        method: 'GET',
        host: '127.0.0.1',
        path: '/',
        rule: undefined,
        action: 'forward',
        status: 200,
        bytes: 2,
        duration_ms: 0.42,
        client: '127.0.0.1',
      }),
  },
]

function timeStep(step: Step, iterations: number): number {
  for (let i = 0; i < 20_000; i++) {
    step.run()
  }
  const start = Bun.nanoseconds()
  for (let i = 0; i < iterations; i++) {
    step.run()
  }
  return (Bun.nanoseconds() - start) / iterations / 1000
}

const iterations = Number(process.argv[2] ?? 200_000)
process.stdout.write(`| step | µs per call |\n|---|--:|\n`)
for (const step of STEPS) {
  process.stdout.write(`| ${step.name} | ${timeStep(step, iterations).toFixed(3)} |\n`)
}
log.flush()
process.stdout.write(
  `\n(${iterations} calls per step after 20000 warm-up calls; ${sunk} log bytes discarded)\n`,
)
