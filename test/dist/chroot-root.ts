/**
 * A throwaway copy of the image's root filesystem for chroot tests:
 * assembled by scripts/make-rootfs.sh (the script the Dockerfile runs), with
 * /proc and /dev mounted into it as a container runtime would.
 *
 * Removing the folder while /dev is still bound into it would delete the
 * host's device nodes, so `removeRoot` refuses to delete anything while a
 * mount below the folder remains.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './binary.ts'

const SCRIPT = join(ROOT, 'scripts/make-rootfs.sh')
const CMD_TIMEOUT_MS = 30_000

/** Why chroot tests cannot run here, or undefined when they can. */
export function findChrootSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) {
    return 'needs root for mount and chroot'
  }
  if (!Bun.which('chroot') || !Bun.which('mount')) {
    return 'chroot or mount is not installed'
  }
  const probe = mkdtempSync(join(tmpdir(), 'roxy-mount-probe-'))
  try {
    const err = mountProc(probe)
    return err === undefined ? undefined : `mount is not permitted here: ${err}`
  } finally {
    run(['umount', probe])
    if (listMountsBelow(probe).length === 0) {
      rmSync(probe, { recursive: true, force: true })
    }
  }
}

/** Assemble the image root filesystem from `binary` into a new temp folder. */
export function assembleRoot(binary: string): string {
  const parent = mkdtempSync(join(tmpdir(), 'roxy-rootfs-'))
  const dir = join(parent, 'root')
  const err = run(['bash', SCRIPT, dir, binary])
  if (err !== undefined) {
    throw new Error(`make-rootfs.sh failed: ${err}`)
  }
  return dir
}

/** Mount a proc file system at DIR/proc and bind the host's /dev at DIR/dev. */
export function mountSystemDirs(dir: string): void {
  const procErr = mountProc(join(dir, 'proc'))
  const devErr = run(['mount', '--bind', '/dev', join(dir, 'dev')])
  if (procErr !== undefined || devErr !== undefined) {
    throw new Error(`mounting into ${dir} failed: ${procErr ?? devErr}`)
  }
}

/** Unmount everything below `dir`, then delete its parent temp folder. */
export function removeRoot(dir: string): void {
  for (const point of listMountsBelow(dir).reverse()) {
    if (run(['umount', point]) !== undefined) {
      run(['umount', '-l', point])
    }
  }
  const left = listMountsBelow(dir)
  if (left.length > 0) {
    throw new Error(`still mounted, not deleting ${dir}: ${left.join(', ')}`)
  }
  rmSync(join(dir, '..'), { recursive: true, force: true })
}

/** Mount points at or below `dir`, in mount order (from /proc/self/mountinfo). */
export function listMountsBelow(dir: string): string[] {
  const info = readFileSync('/proc/self/mountinfo', 'utf8')
  return info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point) => point !== undefined && (point === dir || point.startsWith(dir + '/')))
}

// A fresh proc mount where the kernel allows it; a bind of the host's /proc
// otherwise (some container sandboxes refuse new proc mounts).
function mountProc(target: string): string | undefined {
  const err = run(['mount', '-t', 'proc', 'proc', target])
  return err === undefined ? undefined : run(['mount', '--bind', '/proc', target])
}

/** Run a command to completion; undefined on success, else its error text. */
function run(cmd: string[]): string | undefined {
  const res = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe', timeout: CMD_TIMEOUT_MS })
  if (res.exitCode === 0) {
    return undefined
  }
  return `${cmd.join(' ')}: exit ${res.exitCode}: ${res.stderr.toString().trim()}`
}
