/**
 * Top functions of a `.cpuprofile` (from `bun --cpu-prof`) by sample count.
 *
 * The `.md` Bun writes beside it weighs each sample by the time since the
 * previous one; JSC samples only while JavaScript runs, so the idle gap in
 * the event loop before a sample is charged to whatever function that sample
 * hit (seen: a 2 µs header parser shown at 23 % "self"). Counting samples
 * avoids that skew.
 *
 *   bun bench/cpu-prof-top.ts FILE.cpuprofile [count]
 */

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>
  samples: number[]
}

/** Rows of `| self % | samples | function | file |`, most sampled first. */
export function summarizeProfile(profile: CpuProfile, count: number): string {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const byFunction = new Map<string, number>()
  for (const id of profile.samples) {
    const frame = frames.get(id)
    const file = frame?.url ? frame.url.split('/').slice(-2).join('/') : '(native)'
    const key = `\`${frame?.functionName || '(anonymous)'}\` | ${file}`
    byFunction.set(key, (byFunction.get(key) ?? 0) + 1)
  }
  const total = profile.samples.length
  const rows = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, count)
  const lines = rows.map(([key, n]) => `| ${((100 * n) / total).toFixed(1)} % | ${n} | ${key} |`)
  return `| self | samples | function | file |\n|--:|--:|---|---|\n${lines.join('\n')}\n\n${total} samples\n`
}

if (import.meta.main) {
  const [file, count] = process.argv.slice(2)
  if (!file) {
    process.stderr.write('usage: bun bench/cpu-prof-top.ts FILE.cpuprofile [count]\n')
    process.exit(1)
  }
  const profile = (await Bun.file(file).json()) as CpuProfile
  process.stdout.write(summarizeProfile(profile, Number(count ?? 20)))
}
