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
  writeFileSync(conf, buildNginxConfig(dir, port))
  const proc = spawnInSession(ws, ['nginx', '-p', dir, '-e', join(dir, 'error.log'), '-c', conf])
  await waitForPort(port, proc, 'nginx')
  return toService('nginx', proc, port)
}

function buildNginxConfig(dir: string, port: number): string {
  const tmp = join(dir, 'tmp')
  return `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  # Keep upstream connections open for the whole run (the default, 1000
  # requests, would make each proxy re-dial constantly).
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / { return 200 'ok'; }
  }
}
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
