/**
 * The Dockerfile agrees with the root filesystem that scripts/make-rootfs.sh
 * assembles and test/dist/chroot.test.ts runs (SPEC §10). No engine runs
 * here, so these checks read the files: the final stage is `scratch` and
 * copies exactly the script's output, and the entry point, port and user
 * match the shipped config and passwd entry.
 */
import { describe, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ROOT } from './binary.ts'

interface Instruction {
  op: string
  args: string
}

const instructions = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
const finalStage = instructions.slice(instructions.findLastIndex((i) => i.op === 'FROM'))
const skeleton = join(ROOT, 'scripts/rootfs')

describe('given the Dockerfile', () => {
  test('should end in a scratch stage that copies only the assembled root filesystem', () => {
    expect(finalStage[0].args).toBe('scratch')
    const copies = finalStage.filter((i) => i.op === 'COPY').map((i) => i.args)
    expect(copies.length).toBeGreaterThan(0)
    for (const args of copies) {
      expect(args).toMatch(/^--from=build (--chown=\S+ )?\/rootfs\//)
    }
    expect(finalStage.some((i) => i.op === 'RUN')).toBe(false)
  })

  test('should assemble /rootfs with scripts/make-rootfs.sh in the build stage', () => {
    const runs = instructions.filter((i) => i.op === 'RUN').map((i) => i.args)
    expect(runs.some((r) => r.includes('scripts/make-rootfs.sh /rootfs dist/roxy'))).toBe(true)
  })

  test('should start /roxy on /etc/roxy/config.yaml, a file the image holds', () => {
    expect(JSON.parse(findArgs('ENTRYPOINT'))).toEqual(['/roxy'])
    const cmd = JSON.parse(findArgs('CMD'))
    expect(cmd).toEqual(['run', '-c', '/etc/roxy/config.yaml'])
    expect(existsSync(join(skeleton, cmd[2]))).toBe(true)
  })

  test('should expose the port the shipped config listens on, on every interface', () => {
    const config = parse(readFileSync(join(skeleton, 'etc/roxy/config.yaml'), 'utf8'))
    expect(config.listen).toBe(`0.0.0.0:${findArgs('EXPOSE')}`)
  })

  test('should run as the non-root user of the image passwd file', () => {
    const [uid, gid] = findArgs('USER').split(':').map(Number)
    expect(uid).toBeGreaterThan(0)
    const passwd = readFileSync(join(skeleton, 'etc/passwd'), 'utf8')
    expect(passwd).toMatch(new RegExp(`^roxy:x:${uid}:${gid}:`, 'm'))
    const chowns = finalStage.filter((i) => i.args.includes('--chown='))
    expect(chowns.map((i) => i.args.split(' ')[1])).toEqual([`--chown=${uid}:${gid}`])
  })

  test('should send the builder every file it copies from the context', () => {
    const kept = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1))
    const sources = instructions
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
    expect(sources.length).toBeGreaterThan(0)
    for (const source of sources) {
      expect(kept).toContain(source)
    }
  })
})

function findArgs(op: string): string {
  const found = finalStage.find((i) => i.op === op)
  if (!found) {
    throw new Error(`no ${op} in the final stage`)
  }
  return found.args
}

/** Instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ')
  const out: Instruction[] = []
  for (const line of joined.split('\n')) {
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) {
      continue
    }
    const space = trimmed.indexOf(' ')
    out.push({ op: trimmed.slice(0, space).toUpperCase(), args: trimmed.slice(space + 1).trim() })
  }
  return out
}
