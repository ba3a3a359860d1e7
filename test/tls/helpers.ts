/** Shared by the TLS tests: temp dirs, bounded child processes and bounded waits. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export function makeTempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `roxy-test-${prefix}-`))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Run a command with a hard time limit; never inherits a proxy from the environment. */
export async function run(
  cmd: string[],
  options: { stdin?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const env = {
    ...process.env,
    http_proxy: '',
    https_proxy: '',
    HTTPS_PROXY: '',
    HTTP_PROXY: '',
    ALL_PROXY: '',
    all_proxy: '',
  }
  const proc = Bun.spawn(cmd, {
    stdin: options.stdin === undefined ? 'ignore' : new TextEncoder().encode(options.stdin),
    stdout: 'pipe',
    stderr: 'pipe',
    env,
  })
  const timer = setTimeout(() => proc.kill(), options.timeoutMs ?? 15_000)
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** Resolve once `check()` holds; reject after `timeoutMs`. Polls every 5 ms. */
export async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms`)
    }
    await Bun.sleep(5)
  }
}
