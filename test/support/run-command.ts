/** Run a command to completion with a kill timer; collect its output. */
export async function runCommand(
  argv: string[],
  options: { env?: Record<string, string | undefined>; timeoutMs?: number; stdin?: 'ignore' } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(argv, {
    stdin: options.stdin ?? 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    env: options.env,
  })
  const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 15_000)
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  clearTimeout(timer)
  return { code, stdout, stderr }
}
