/**
 * Turn a JSC jitdump (`BUN_JSC_useJITDump=1 BUN_JSC_jitDumpDirectory=DIR`)
 * into /tmp/perf-PID.map, so `perf report` / `perf script` name the JIT
 * frames of roxy's JavaScript. (`perf inject --jit` does not pick the file
 * up: JSC names it jit-<tid>-<pid>.dump, perf expects jit-<pid>.dump.)
 *
 *   bun bench/jitdump-map.ts DIR/jit-*.dump PID
 *
 * Format: https://github.com/torvalds/linux/blob/master/tools/perf/Documentation/jitdump-specification.txt
 * Header: magic version total_size elf_mach pad1 pid (u32 each), timestamp flags (u64).
 * Record: id total_size (u32), timestamp (u64); JIT_CODE_LOAD (id 0) then holds
 * pid tid (u32), vma code_addr code_size code_index (u64), a NUL-ended name, the code.
 */
import { writeFileSync } from 'node:fs'

const JIT_CODE_LOAD = 0

/** `START SIZE NAME` lines, hex, one per JIT_CODE_LOAD record. */
export function readJitDump(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const lines: string[] = []
  let offset = view.getUint32(8, true) // header total_size
  while (offset + 16 <= bytes.length) {
    const id = view.getUint32(offset, true)
    const size = view.getUint32(offset + 4, true)
    if (size === 0) {
      break
    }
    if (id === JIT_CODE_LOAD) {
      const codeAddr = view.getBigUint64(offset + 24, true)
      const codeSize = view.getBigUint64(offset + 32, true)
      const nameStart = offset + 56
      const nameEnd = bytes.indexOf(0, nameStart)
      const name = Buffer.from(bytes.subarray(nameStart, nameEnd)).toString('utf8')
      lines.push(`${codeAddr.toString(16)} ${codeSize.toString(16)} ${name}`)
    }
    offset += size
  }
  return lines
}

if (import.meta.main) {
  const [file, pid] = process.argv.slice(2)
  if (!file || !pid) {
    process.stderr.write('usage: bun bench/jitdump-map.ts FILE.dump PID\n')
    process.exit(1)
  }
  const lines = readJitDump(new Uint8Array(await Bun.file(file).arrayBuffer()))
  writeFileSync(`/tmp/perf-${pid}.map`, lines.join('\n') + '\n')
  process.stdout.write(`/tmp/perf-${pid}.map: ${lines.length} JIT symbols\n`)
}
