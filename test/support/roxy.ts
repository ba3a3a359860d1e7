/**
 * Start the real roxy as a child process on port 0 and read its JSON log
 * lines. Every helper here registers nothing global: callers stop what they
 * start (`await using`, or `afterAll`).
 */
import { readLines } from './read-lines.ts'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { runCommand } from './run-command.ts'

const MAIN = join(import.meta.dir, '../../src/main.ts')

export interface LogLine {
  ts: string
  level: string
  target: string
  msg: string
  [field: string]: unknown
}

export interface RoxyProcess extends AsyncDisposable {
  port: number
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  /** Every JSON line printed so far. */
  logs: LogLine[]
  /** Resolves with the first line (already seen or future) that `match` accepts. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>
  /** Peak resident set size of the proxy process so far, in bytes (VmHWM). */
  peakRss(): number
  stop(signal?: NodeJS.Signals): Promise<number>
  /** Proxy URL for clients: `http://127.0.0.1:PORT`. */
  url: string
  configPath: string
  stderr(): string
}

export function tempDir(prefix = 'roxy-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Write `yaml` to a temp file and start roxy on it; resolves once it listens. */
export async function startRoxy(
  yaml: string,
  opts: { env?: Record<string, string>; dir?: string } = {},
): Promise<RoxyProcess> {
  const dir = opts.dir ?? tempDir()
  const configPath = join(dir, 'roxy.yaml')
  writeFileSync(configPath, yaml)
  const proc = Bun.spawn(['bun', MAIN, 'run', '-c', configPath], {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    // The ephemeral CA goes to TMPDIR: keep it in this test's folder.
    env: { ...process.env, ROXY_LOG: 'debug', TMPDIR: dir, ...opts.env },
  })
  const logs: LogLine[] = []
  const waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = []
  let errText = ''
  void readLines(proc.stdout, (text) => {
    let line: LogLine
    try {
      line = JSON.parse(text)
    } catch {
      return
    }
    logs.push(line)
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].match(line)) {
        waiters[i].resolve(line)
        waiters.splice(i, 1)
      }
    }
  })
  void readLines(proc.stderr, (text) => {
    errText += text + '\n'
  })
  const waitForLog = (match: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> => {
    const seen = logs.find(match)
    if (seen) {
      return Promise.resolve(seen)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${errText}`))
      }, timeoutMs)
      waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer)
          resolve(l)
        },
      })
    })
  }
  const listening = await Promise.race([
    waitForLog((l) => l.msg === 'listening'),
    proc.exited.then((code) => {
      throw new Error(`roxy exited with ${code} before listening: ${errText}`)
    }),
  ])
  const port = Number(String(listening.address).split(':').pop())
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode === null) {
      proc.kill(signal)
    }
    return proc.exited
  }
  return {
    port,
    proc,
    logs,
    waitForLog,
    url: `http://127.0.0.1:${port}`,
    configPath,
    stderr: () => errText,
    peakRss: () => readPeakRss(proc.pid),
    stop,
    async [Symbol.asyncDispose]() {
      await stop('SIGKILL')
    },
  }
}

/** Run the roxy command line to completion (check, explain, ca init, bad configs). */
export function runRoxy(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCommand(['bun', MAIN, ...args], { env: { ...process.env, ...env } })
}

function readPeakRss(pid: number): number {
  const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8') as string
  const m = /VmHWM:\s+(\d+) kB/.exec(status)
  return m ? Number(m[1]) * 1024 : 0
}

export { writeFileSync }
