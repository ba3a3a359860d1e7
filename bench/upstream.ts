/**
 * A minimal upstream for `bench/run.sh --upstream bun`: 200 `ok` to every
 * request, on 127.0.0.1 and the port given as the first argument.
 */
const port = Number(process.argv[2] ?? 0)
const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch: () => new Response('ok'),
})
process.stdout.write(`${server.port}\n`)
