/** Option handling shared by the bench drivers (bench/run.ts, bench/tls-run.ts). */
import { resolve } from 'node:path'

export function readPositive(flag: string, text: string, zeroOk = false): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < (zeroOk ? 0 : 1)) {
    throw new Error(`${flag} needs a ${zeroOk ? 'non-negative' : 'positive'} integer, got ${text}`)
  }
  return value
}

interface RoxyBenchOptions {
  roxyCommand: string[]
  cpuProfDir?: string
  workdir?: string
}

/** `--cpu-prof` wraps the roxy command in Bun's profiler; `--workdir` is required (`script` passes it). */
export function finishRoxyOptions<T extends RoxyBenchOptions>(options: T, script: string): T {
  if (options.cpuProfDir) {
    if (options.roxyCommand.length !== 2) {
      throw new Error('--cpu-prof needs roxy run from source (no --roxy-bin)')
    }
    const [bun, main] = options.roxyCommand
    const dir = resolve(options.cpuProfDir)
    options.roxyCommand = [bun, '--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${dir}`, main]
  }
  if (!options.workdir) {
    throw new Error(`--workdir is required (${script} passes it)`)
  }
  return options
}
