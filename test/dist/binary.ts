/**
 * Helpers for the distribution tests: the compiled executable and a child
 * process whose JSON log lines can be awaited.
 *
 * `buildBinary()` runs `make build`. Make rebuilds dist/roxy only when a file
 * under src/, package.json, bun.lock or the Makefile is newer than it, so a
 * test run on an unchanged tree reuses the binary (a rebuild takes about 1 s
 * here; an up-to-date check a few ms).
 */
import { readLines } from '../support/read-lines.ts'
import { join } from 'node:path'
import type { Subprocess } from 'bun'

export const ROOT = join(import.meta.dir, '../..')
export const BINARY = join(ROOT, 'dist/roxy')

const BUILD_TIMEOUT_MS = 120_000

/** Make sure dist/roxy is up to date with the sources; returns its path. */
export function buildBinary(): string {
  const res = Bun.spawnSync(['make', '-s', 'build'], {
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'pipe',
    timeout: BUILD_TIMEOUT_MS,
  })
  if (res.exitCode !== 0) {
    throw new Error(`make build failed (${res.exitCode}): ${res.stderr.toString()}`)
  }
  return BINARY
}

export interface LogLine {
  level: string
  msg: string
  [field: string]: unknown
}

/** A running child that prints JSON lines on stdout. */
export interface LoggingProcess {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  lines: LogLine[]
  stderr(): string
  /** The first line `match` accepts, seen already or within `timeoutMs`. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>
  /** Signal the process (if alive) and wait for its exit code, killing it after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number>
}

/** Spawn `cmd` and collect its stdout JSON lines. */
export function spawnLogging(
  cmd: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): LoggingProcess {
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd,
    env: opts.env,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const lines: LogLine[] = []
  let errText = ''
  void readLines(proc.stdout, (text) => {
    try {
      lines.push(JSON.parse(text))
    } catch {
      // not a log line; ignored
    }
  })
  void readLines(proc.stderr, (text) => {
    errText += text + '\n'
  })
  return {
    proc,
    lines,
    stderr: () => errText,
    waitForLine: (match, timeoutMs = 10_000) =>
      pollFor(
        () => lines.find(match),
        proc,
        timeoutMs,
        () => errText,
      ),
    stop: (signal = 'SIGTERM', graceMs = 10_000) => stopProcess(proc, signal, graceMs),
  }
}

async function pollFor(
  find: () => LogLine | undefined,
  proc: Subprocess,
  timeoutMs: number,
  errText: () => string,
): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const line = find()
    if (line) {
      return line
    }
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`process ended (${proc.exitCode ?? proc.signalCode}): ${errText()}`)
    }
    await Bun.sleep(20)
  }
  throw new Error(`no matching log line within ${timeoutMs} ms; stderr: ${errText()}`)
}

async function stopProcess(proc: Subprocess, signal: NodeJS.Signals, graceMs: number) {
  if (proc.exitCode === null && proc.signalCode === null) {
    proc.kill(signal)
  }
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
  const code = await proc.exited
  clearTimeout(timer)
  return code
}
