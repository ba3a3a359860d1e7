/**
 * The servers a bench run starts: the upstream (nginx or a Bun.serve), Squid
 * and roxy. Each runs in its own session (`setsid`), so its pid is also its
 * process-group id: CPU and memory are read for the whole group, and stopping
 * it signals the whole group. Everything listens on 127.0.0.1 only.
 */
import { mkdirSync, readFileSync, writeFileSync, chownSync } from 'node:fs'
import { join } from 'node:path'

/** A started server: its process group, its loopback port, and how to stop it. */
export interface Service {
  name: string
  pgid: number
  port: number
  stop(): Promise<void>
}

/** Where config files, logs and the pid list for the shell trap go. */
export interface Workspace {
  dir: string
}

const READY_TIMEOUT_MS = 15_000

/** A free loopback port (bound on port 0, then released) for servers that need one in a file. */
export function pickFreePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

/** The upstream: nginx, one worker, answering every request with 200 `ok`. */
export async function startNginx(ws: Workspace): Promise<Service> {
  const dir = join(ws.dir, 'nginx')
  mkdirSync(join(dir, 'tmp'), { recursive: true })
  const port = pickFreePort()
  const conf = join(dir, 'nginx.conf')
  writeFileSync(
    conf,
    buildNginxConfig(
      dir,
      `  server {
    listen 127.0.0.1:${port};
    location / { return 200 'ok'; }
  }
`,
    ),
  )
  const proc = spawnInSession(ws, ['nginx', '-p', dir, '-e', join(dir, 'error.log'), '-c', conf])
  await waitForPort(port, proc, 'nginx')
  return toService('nginx', proc, port)
}

/** nginx.conf around `servers` (server blocks), with `httpExtra` at the top of `http`. */
function buildNginxConfig(dir: string, servers: string, httpExtra = ''): string {
  const tmp = join(dir, 'tmp')
  return `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
${httpExtra}  access_log off;
  # Keep upstream connections open for the whole run (the default, 1000
  # requests, would make each proxy re-dial constantly).
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
${servers}}
`
}

/** The upstream, alternative: a Bun.serve answering 200 `ok` (bench/upstream.ts). */
export async function startBunUpstream(ws: Workspace): Promise<Service> {
  const port = pickFreePort()
  const proc = spawnInSession(ws, [
    process.execPath,
    join(import.meta.dir, 'upstream.ts'),
    `${port}`,
  ])
  await waitForPort(port, proc, 'bun upstream')
  return toService('bun-upstream', proc, port)
}

/** The Bun socket floor (bench/bun-relay.ts): a relay, not a proxy, for comparison only. */
export async function startBunRelay(ws: Workspace, upstreamPort: number): Promise<Service> {
  const script = join(import.meta.dir, 'bun-relay.ts')
  const portFile = join(ws.dir, 'bun-relay.port')
  const proc = spawnInSession(ws, [process.execPath, script, `${upstreamPort}`], {
    stdout: Bun.file(portFile),
  })
  const deadline = Date.now() + READY_TIMEOUT_MS
  let port = 0
  while (port === 0 && Date.now() < deadline && proc.exitCode === null) {
    await Bun.sleep(50)
    port =
      Number(
        (
          await Bun.file(portFile)
            .text()
            .catch(() => '')
        ).trim(),
      ) || 0
  }
  await waitForPort(port, proc, 'bun relay')
  return toService('bun-relay', proc, port)
}

/**
 * Squid in the foreground (`-N`, one process, no SMP workers), no caching,
 * the default access log (`daemon:` module, squid format) written to the
 * workspace. It contacts no other host: targets are IP literals, DNS points
 * at 127.0.0.1, pinger/ICP/HTCP are off.
 */
export async function startSquid(ws: Workspace): Promise<Service> {
  const dir = join(ws.dir, 'squid')
  mkdirSync(dir, { recursive: true })
  // Started as root, Squid drops to the `proxy` user, which must write here.
  if (process.getuid?.() === 0) {
    const ids = readProxyUser()
    if (ids) {
      chownSync(dir, ids.uid, ids.gid)
    }
  }
  const port = pickFreePort()
  const conf = join(dir, 'squid.conf')
  writeFileSync(conf, buildSquidConfig(dir, port))
  const proc = spawnInSession(ws, ['squid', '-N', '-f', conf])
  await waitForPort(port, proc, 'squid')
  return toService('squid', proc, port)
}

function buildSquidConfig(dir: string, port: number): string {
  return `http_port 127.0.0.1:${port}
http_access allow localhost
http_access deny all
cache deny all
access_log daemon:${join(dir, 'access.log')} squid
cache_log ${join(dir, 'cache.log')}
cache_store_log none
pid_filename ${join(dir, 'squid.pid')}
coredump_dir ${dir}
netdb_filename none
logfile_rotate 0
dns_nameservers 127.0.0.1
pinger_enable off
icp_port 0
htcp_port 0
via off
forwarded_for delete
shutdown_lifetime 0 seconds
`
}

function readProxyUser(): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('proxy:'))
  const fields = line?.split(':')
  return fields ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined
}

export interface RoxyOptions {
  /** Command before `run -c FILE`; default: this Bun running src/main.ts. */
  command: string[]
  maxIdlePerHost: number
}

/** roxy with request logging at info, its stdout (the JSON log) going to a file. */
export async function startRoxy(ws: Workspace, options: RoxyOptions): Promise<Service> {
  const conf = join(ws.dir, 'roxy.yaml')
  writeFileSync(
    conf,
    `listen: "127.0.0.1:0"\npool:\n  max_idle_per_host: ${options.maxIdlePerHost}\n`,
  )
  const logPath = join(ws.dir, 'roxy.log')
  const proc = spawnInSession(ws, [...options.command, 'run', '-c', conf], {
    stdout: Bun.file(logPath),
    env: { ...process.env, ROXY_LOG: 'info' },
  })
  const port = await waitForListeningLine(logPath, proc)
  await waitForPort(port, proc, 'roxy')
  return toService('roxy', proc, port)
}

async function waitForListeningLine(logPath: string, proc: Bun.Subprocess): Promise<number> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline && proc.exitCode === null) {
    const text = await Bun.file(logPath)
      .text()
      .catch(() => '')
    const match = /"msg":"listening".*?"address":"[^"]*:(\d+)"/.exec(text)
    if (match) {
      return Number(match[1])
    }
    await Bun.sleep(50)
  }
  throw new Error(`roxy did not log "listening" (exit code ${proc.exitCode}); see ${logPath}`)
}

type SpawnExtras = { stdout?: Bun.BunFile; env?: Record<string, string | undefined> }

function spawnInSession(ws: Workspace, cmd: string[], extras: SpawnExtras = {}): Bun.Subprocess {
  const proc = Bun.spawn(['setsid', ...cmd], {
    stdin: 'ignore',
    stdout: extras.stdout ?? 'ignore',
    stderr: Bun.file(join(ws.dir, `${cmd[0].split('/').pop()}-${Date.now()}.stderr`)),
    env: extras.env ?? process.env,
  })
  trackGroup(ws, proc)
  return proc
}

/**
 * The live groups, mirrored in WORKDIR/pgids: the shell wrapper's trap
 * signals every group listed there, should this process die first. A group
 * leaves the list once it has exited, so the trap never signals a reused id.
 */
const liveGroups = new Set<number>()

function trackGroup(ws: Workspace, proc: Bun.Subprocess): void {
  const file = join(ws.dir, 'pgids')
  const save = () => writeFileSync(file, [...liveGroups].map((pgid) => `${pgid}\n`).join(''))
  liveGroups.add(proc.pid)
  save()
  void proc.exited.then(() => {
    liveGroups.delete(proc.pid)
    save()
  })
}

function toService(name: string, proc: Bun.Subprocess, port: number): Service {
  return {
    name,
    pgid: proc.pid,
    port,
    stop: () => stopGroup(proc),
  }
}

/** SIGTERM to the whole group, SIGKILL after 5 s if the leader is still there. */
async function stopGroup(proc: Bun.Subprocess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    return
  }
  signalGroup(proc.pid, 'SIGTERM')
  const exited = await Promise.race([
    proc.exited.then(() => true),
    Bun.sleep(5000).then(() => false),
  ])
  if (!exited) {
    signalGroup(proc.pid, 'SIGKILL')
    await proc.exited
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch {
    // the group is gone already
  }
}

async function waitForPort(port: number, proc: Bun.Subprocess, name: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) {
      throw new Error(`${name} exited with code ${proc.exitCode} before listening`)
    }
    if (await canConnect(port)) {
      return
    }
    await Bun.sleep(50)
  }
  throw new Error(`${name} is not listening on 127.0.0.1:${port} after ${READY_TIMEOUT_MS} ms`)
}

function canConnect(port: number): Promise<boolean> {
  return Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: { data() {} },
  }).then(
    (socket) => {
      socket.end()
      return true
    },
    () => false,
  )
}

/** What the HTTPS origin serves: one certificate per host name (bench/tls-pki.ts). */
export interface TlsOriginOptions {
  keyPath: string
  certPaths: Map<string, string>
}

/**
 * The HTTPS origin for bench/tls-run.ts: nginx, one worker, one `server` block per host
 * name with that host's certificate (SNI picks it), each answering 200 `ok`.
 */
export async function startTlsOrigin(ws: Workspace, options: TlsOriginOptions): Promise<Service> {
  const dir = join(ws.dir, 'nginx-tls')
  mkdirSync(join(dir, 'tmp'), { recursive: true })
  const port = pickFreePort()
  const conf = join(dir, 'nginx.conf')
  writeFileSync(conf, buildTlsNginxConfig(dir, port, options))
  const proc = spawnInSession(ws, ['nginx', '-p', dir, '-e', join(dir, 'error.log'), '-c', conf])
  await waitForPort(port, proc, 'nginx (TLS)')
  return toService('nginx-tls', proc, port)
}

function buildTlsNginxConfig(dir: string, port: number, options: TlsOriginOptions): string {
  const servers = [...options.certPaths].map(
    ([host, cert]) => `  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${host};
    ssl_certificate ${cert};
    location / { return 200 'ok'; }
  }
`,
  )
  const tls = `  ssl_certificate_key ${options.keyPath};
  ssl_protocols TLSv1.2 TLSv1.3;
`
  return buildNginxConfig(dir, servers.join(''), tls)
}

/** Settings shared by the intercepting proxies of bench/tls-run.ts. */
export interface InterceptOptions {
  /** The origin CA the proxy must trust (PEM path). */
  upstreamCa: string
}

/** A started intercepting proxy, with the CA certificate (PEM) a client must trust. */
export interface InterceptService extends Service {
  caPem: string
}

/**
 * roxy intercepting HTTPS: `*.test` pinned to 127.0.0.1 with `resolve:`, the origin CA
 * as `upstream_ca`, its ephemeral CA fetched from `/ca.pem`, request log at info.
 */
export async function startRoxyIntercept(
  ws: Workspace,
  options: InterceptOptions & { command: string[]; maxIdlePerHost?: number },
): Promise<InterceptService> {
  const dir = join(ws.dir, 'roxy-tls')
  mkdirSync(dir, { recursive: true })
  const conf = join(dir, 'roxy.yaml')
  const pool =
    options.maxIdlePerHost === undefined
      ? ''
      : `pool:\n  max_idle_per_host: ${options.maxIdlePerHost}\n`
  writeFileSync(
    conf,
    `listen: "127.0.0.1:0"
upstream_ca: ${options.upstreamCa}
resolve:
  "*.test": 127.0.0.1
state:
  path: ":memory:"
${pool}`,
  )
  const logPath = join(dir, 'roxy.log')
  const proc = spawnInSession(ws, [...options.command, 'run', '-c', conf], {
    stdout: Bun.file(logPath),
    env: { ...process.env, ROXY_LOG: 'info', TMPDIR: dir },
  })
  const port = await waitForListeningLine(logPath, proc)
  await waitForPort(port, proc, 'roxy')
  const response = await fetch(`http://127.0.0.1:${port}/ca.pem`)
  const caPem = await response.text()
  if (!response.ok || !caPem.includes('BEGIN CERTIFICATE')) {
    throw new Error(`roxy /ca.pem answered ${response.status}: ${caPem.slice(0, 200)}`)
  }
  return { ...toService('roxy', proc, port), caPem }
}

/**
 * mitmdump (mitmproxy) on a loopback port, regular proxy mode, quiet, its CA in a temp
 * `confdir`, the origin CA as its upstream trust, and an addon pinning `*.test` to
 * 127.0.0.1 (bench/tls-mitmproxy-addon.py) so that it resolves no name.
 */
export async function startMitmdump(
  ws: Workspace,
  options: InterceptOptions,
): Promise<InterceptService> {
  const confdir = join(ws.dir, 'mitmproxy')
  mkdirSync(confdir, { recursive: true })
  const port = pickFreePort()
  const proc = spawnInSession(
    ws,
    [
      'mitmdump',
      '--listen-host',
      '127.0.0.1',
      '--listen-port',
      `${port}`,
      '--set',
      `confdir=${confdir}`,
      '--set',
      `ssl_verify_upstream_trusted_ca=${options.upstreamCa}`,
      '--set',
      'flow_detail=0',
      '-q',
      '-s',
      join(import.meta.dir, 'tls-mitmproxy-addon.py'),
    ],
    {
      stdout: Bun.file(join(confdir, 'stdout.log')),
      env: { ...process.env, HOME: confdir, PYTHONDONTWRITEBYTECODE: '1' },
    },
  )
  await waitForPort(port, proc, 'mitmdump')
  const caPem = readFileSync(join(confdir, 'mitmproxy-ca-cert.pem'), 'utf8')
  return { ...toService('mitmproxy', proc, port), caPem }
}

/**
 * http-mitm-proxy (npm, installed by bench/tls-run.sh into bench/.deps) under Node,
 * through bench/tls-http-mitm-proxy.mjs: keep-alive on both sides, its CA in a temp
 * folder, the origin CA trusted, `*.test` looked up as 127.0.0.1.
 */
export async function startHttpMitmProxy(
  ws: Workspace,
  options: InterceptOptions & { depsDir: string },
): Promise<InterceptService> {
  const dir = join(ws.dir, 'http-mitm-proxy')
  mkdirSync(dir, { recursive: true })
  const portFile = join(dir, 'port')
  const proc = spawnInSession(
    ws,
    [
      'node',
      join(import.meta.dir, 'tls-http-mitm-proxy.mjs'),
      options.depsDir,
      join(dir, 'ca'),
      options.upstreamCa,
      portFile,
    ],
    { stdout: Bun.file(join(dir, 'stdout.log')) },
  )
  // It makes its RSA CA at start-up: allow more than the usual wait.
  const port = await waitForPortFile(portFile, proc, 'http-mitm-proxy', 60_000)
  await waitForPort(port, proc, 'http-mitm-proxy')
  const caPem = readFileSync(join(dir, 'ca', 'certs', 'ca.pem'), 'utf8')
  return { ...toService('http-mitm-proxy', proc, port), caPem }
}

async function waitForPortFile(
  path: string,
  proc: Bun.Subprocess,
  name: string,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && proc.exitCode === null) {
    const text = await Bun.file(path)
      .text()
      .catch(() => '')
    const port = Number(text.trim())
    if (port > 0) {
      return port
    }
    await Bun.sleep(50)
  }
  throw new Error(`${name} wrote no port to ${path} (exit code ${proc.exitCode})`)
}
