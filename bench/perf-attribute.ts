/**
 * Charge each `perf script` sample (recorded with -g) to the innermost
 * JavaScript function on its stack, native callees included, so that e.g.
 * the allocator time a header parser causes shows under the parser.
 * JSC thunks are skipped (they belong to their caller). Samples without a JIT frame are kernel (perf cannot unwind through libc's
 * send/recv) or runtime work outside JS: event loop, GC, helper threads.
 *
 *   perf script -i perf.data | bun bench/perf-attribute.ts [count]
 */

const NO_JS = '(no JS frame: kernel, event loop, GC, other threads)'
const JIT_FRAME = /JSC-(?:FTL|DFG|Baseline|LLInt)(?!\w*Thunk)[^:]*: (#?[^ #+]+)/

export interface Attribution {
  total: number
  rows: Array<{ name: string; samples: number; kernelLeaf: number }>
}

/** Group samples (blank-line separated blocks of `perf script`) by innermost JS frame. */
export function attributeSamples(text: string): Attribution {
  const counts = new Map<string, { samples: number; kernelLeaf: number }>()
  let total = 0
  for (const block of text.split(/\n\s*\n/)) {
    const frames = block.trim().split('\n').slice(1)
    if (frames.length === 0) {
      continue
    }
    total++
    const name = frames.map((f) => JIT_FRAME.exec(f)?.[1]).find((n) => n !== undefined) ?? NO_JS
    const entry = counts.get(name) ?? { samples: 0, kernelLeaf: 0 }
    entry.samples++
    if (frames[0].includes('kernel.kallsyms')) {
      entry.kernelLeaf++
    }
    counts.set(name, entry)
  }
  const rows = [...counts.entries()]
    .map(([name, c]) => ({ name, ...c }))
    .sort((a, b) => b.samples - a.samples)
  return { total, rows }
}

if (import.meta.main) {
  const count = Number(process.argv[2] ?? 25)
  const { total, rows } = attributeSamples(await new Response(Bun.stdin.stream()).text())
  const pct = (n: number) => `${((100 * n) / total).toFixed(1)} %`
  process.stdout.write('| share | of which kernel | innermost JS function |\n|--:|--:|---|\n')
  for (const row of rows.slice(0, count)) {
    process.stdout.write(`| ${pct(row.samples)} | ${pct(row.kernelLeaf)} | \`${row.name}\` |\n`)
  }
  process.stdout.write(`\n${total} samples\n`)
}
