/**
 * Loopback upstreams for the memory benchmark: `bun bench/upstream-ok.ts [N]`
 * starts N tiny Bun.serve servers on 127.0.0.1, port 0, each answering `ok`,
 * prints their ports on one line (space-separated) and runs until killed.
 * With N = 1 it doubles as the "bare Bun server" anchor of docs/memory.md.
 */
const MAX_SERVERS = 5000

const count = Number(process.argv[2] ?? 1)
if (!Number.isInteger(count) || count < 1 || count > MAX_SERVERS) {
  throw new Error(`server count must be an integer from 1 to ${MAX_SERVERS}`)
}

const ports: number[] = []
for (let i = 0; i < count; i++) {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 120,
    fetch: () => new Response('ok'),
  })
  ports.push(server.port as number)
}
process.stdout.write(ports.join(' ') + '\n')
